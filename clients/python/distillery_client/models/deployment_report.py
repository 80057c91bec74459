from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.int_8_cost import Int8Cost
  from ..models.network_cost import NetworkCost





T = TypeVar("T", bound="DeploymentReport")



@_attrs_define
class DeploymentReport:
    """ Teacher, student and INT8 student measured the same way on the worker (one thread count, warm-up first;
    the teacher in its sandbox), and the ratios between them.

        Attributes:
            compression (float | None | Unset): Teacher file's bytes over the student file's.
            compression_int8 (float | None | Unset):
            error (None | str | Unset): Why no report could be made (the job succeeded nonetheless).
            int8_compression_vs_fp32 (float | None | Unset):
            int8_speedup_vs_fp32 (float | None | Unset):
            latency_batch (int | None | Unset):
            sequence_length (int | None | Unset): A text job: the tokens of each timed sample (the teacher's max_length, no
                padding).
            speedup (float | None | Unset): Teacher's median batch-1 latency over the student's, both in speedup_runtime.
            speedup_int8 (float | None | Unset):
            speedup_runtime (None | str | Unset):
            student (NetworkCost | None | Unset): The fp32 student, run by ONNX Runtime.
            student_error (None | str | Unset): Why the student could not be measured.
            student_int8 (Int8Cost | None | Unset): Present when the job exports onnx_int8.
            student_int8_error (None | str | Unset): Why no INT8 student could be made (a text job: it is not made for text
                students).
            student_torch (NetworkCost | None | Unset): The student run by torch the way the teacher runs (mode), present
                where the teacher runs in torch: the speedup compares those two.
            teacher (NetworkCost | None | Unset):
            teacher_error (None | str | Unset): Why the teacher could not be measured.
            threads (int | None | Unset):
            throughput_batch (int | None | Unset):
            throughput_gain (float | None | Unset): Student's samples per second over the teacher's.
     """

    compression: float | None | Unset = UNSET
    compression_int8: float | None | Unset = UNSET
    error: None | str | Unset = UNSET
    int8_compression_vs_fp32: float | None | Unset = UNSET
    int8_speedup_vs_fp32: float | None | Unset = UNSET
    latency_batch: int | None | Unset = UNSET
    sequence_length: int | None | Unset = UNSET
    speedup: float | None | Unset = UNSET
    speedup_int8: float | None | Unset = UNSET
    speedup_runtime: None | str | Unset = UNSET
    student: NetworkCost | None | Unset = UNSET
    student_error: None | str | Unset = UNSET
    student_int8: Int8Cost | None | Unset = UNSET
    student_int8_error: None | str | Unset = UNSET
    student_torch: NetworkCost | None | Unset = UNSET
    teacher: NetworkCost | None | Unset = UNSET
    teacher_error: None | str | Unset = UNSET
    threads: int | None | Unset = UNSET
    throughput_batch: int | None | Unset = UNSET
    throughput_gain: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.int_8_cost import Int8Cost # noqa: PLC0415
        from ..models.network_cost import NetworkCost # noqa: PLC0415
        compression: float | None | Unset
        if isinstance(self.compression, Unset):
            compression = UNSET
        else:
            compression = self.compression

        compression_int8: float | None | Unset
        if isinstance(self.compression_int8, Unset):
            compression_int8 = UNSET
        else:
            compression_int8 = self.compression_int8

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        int8_compression_vs_fp32: float | None | Unset
        if isinstance(self.int8_compression_vs_fp32, Unset):
            int8_compression_vs_fp32 = UNSET
        else:
            int8_compression_vs_fp32 = self.int8_compression_vs_fp32

        int8_speedup_vs_fp32: float | None | Unset
        if isinstance(self.int8_speedup_vs_fp32, Unset):
            int8_speedup_vs_fp32 = UNSET
        else:
            int8_speedup_vs_fp32 = self.int8_speedup_vs_fp32

        latency_batch: int | None | Unset
        if isinstance(self.latency_batch, Unset):
            latency_batch = UNSET
        else:
            latency_batch = self.latency_batch

        sequence_length: int | None | Unset
        if isinstance(self.sequence_length, Unset):
            sequence_length = UNSET
        else:
            sequence_length = self.sequence_length

        speedup: float | None | Unset
        if isinstance(self.speedup, Unset):
            speedup = UNSET
        else:
            speedup = self.speedup

        speedup_int8: float | None | Unset
        if isinstance(self.speedup_int8, Unset):
            speedup_int8 = UNSET
        else:
            speedup_int8 = self.speedup_int8

        speedup_runtime: None | str | Unset
        if isinstance(self.speedup_runtime, Unset):
            speedup_runtime = UNSET
        else:
            speedup_runtime = self.speedup_runtime

        student: dict[str, Any] | None | Unset
        if isinstance(self.student, Unset):
            student = UNSET
        elif isinstance(self.student, NetworkCost):
            student = self.student.to_dict()
        else:
            student = self.student

        student_error: None | str | Unset
        if isinstance(self.student_error, Unset):
            student_error = UNSET
        else:
            student_error = self.student_error

        student_int8: dict[str, Any] | None | Unset
        if isinstance(self.student_int8, Unset):
            student_int8 = UNSET
        elif isinstance(self.student_int8, Int8Cost):
            student_int8 = self.student_int8.to_dict()
        else:
            student_int8 = self.student_int8

        student_int8_error: None | str | Unset
        if isinstance(self.student_int8_error, Unset):
            student_int8_error = UNSET
        else:
            student_int8_error = self.student_int8_error

        student_torch: dict[str, Any] | None | Unset
        if isinstance(self.student_torch, Unset):
            student_torch = UNSET
        elif isinstance(self.student_torch, NetworkCost):
            student_torch = self.student_torch.to_dict()
        else:
            student_torch = self.student_torch

        teacher: dict[str, Any] | None | Unset
        if isinstance(self.teacher, Unset):
            teacher = UNSET
        elif isinstance(self.teacher, NetworkCost):
            teacher = self.teacher.to_dict()
        else:
            teacher = self.teacher

        teacher_error: None | str | Unset
        if isinstance(self.teacher_error, Unset):
            teacher_error = UNSET
        else:
            teacher_error = self.teacher_error

        threads: int | None | Unset
        if isinstance(self.threads, Unset):
            threads = UNSET
        else:
            threads = self.threads

        throughput_batch: int | None | Unset
        if isinstance(self.throughput_batch, Unset):
            throughput_batch = UNSET
        else:
            throughput_batch = self.throughput_batch

        throughput_gain: float | None | Unset
        if isinstance(self.throughput_gain, Unset):
            throughput_gain = UNSET
        else:
            throughput_gain = self.throughput_gain


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if compression is not UNSET:
            field_dict["compression"] = compression
        if compression_int8 is not UNSET:
            field_dict["compression_int8"] = compression_int8
        if error is not UNSET:
            field_dict["error"] = error
        if int8_compression_vs_fp32 is not UNSET:
            field_dict["int8_compression_vs_fp32"] = int8_compression_vs_fp32
        if int8_speedup_vs_fp32 is not UNSET:
            field_dict["int8_speedup_vs_fp32"] = int8_speedup_vs_fp32
        if latency_batch is not UNSET:
            field_dict["latency_batch"] = latency_batch
        if sequence_length is not UNSET:
            field_dict["sequence_length"] = sequence_length
        if speedup is not UNSET:
            field_dict["speedup"] = speedup
        if speedup_int8 is not UNSET:
            field_dict["speedup_int8"] = speedup_int8
        if speedup_runtime is not UNSET:
            field_dict["speedup_runtime"] = speedup_runtime
        if student is not UNSET:
            field_dict["student"] = student
        if student_error is not UNSET:
            field_dict["student_error"] = student_error
        if student_int8 is not UNSET:
            field_dict["student_int8"] = student_int8
        if student_int8_error is not UNSET:
            field_dict["student_int8_error"] = student_int8_error
        if student_torch is not UNSET:
            field_dict["student_torch"] = student_torch
        if teacher is not UNSET:
            field_dict["teacher"] = teacher
        if teacher_error is not UNSET:
            field_dict["teacher_error"] = teacher_error
        if threads is not UNSET:
            field_dict["threads"] = threads
        if throughput_batch is not UNSET:
            field_dict["throughput_batch"] = throughput_batch
        if throughput_gain is not UNSET:
            field_dict["throughput_gain"] = throughput_gain

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.int_8_cost import Int8Cost # noqa: PLC0415
        from ..models.network_cost import NetworkCost # noqa: PLC0415
        d = dict(src_dict)
        def _parse_compression(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        compression = _parse_compression(d.pop("compression", UNSET))


        def _parse_compression_int8(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        compression_int8 = _parse_compression_int8(d.pop("compression_int8", UNSET))


        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        def _parse_int8_compression_vs_fp32(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        int8_compression_vs_fp32 = _parse_int8_compression_vs_fp32(d.pop("int8_compression_vs_fp32", UNSET))


        def _parse_int8_speedup_vs_fp32(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        int8_speedup_vs_fp32 = _parse_int8_speedup_vs_fp32(d.pop("int8_speedup_vs_fp32", UNSET))


        def _parse_latency_batch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        latency_batch = _parse_latency_batch(d.pop("latency_batch", UNSET))


        def _parse_sequence_length(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        sequence_length = _parse_sequence_length(d.pop("sequence_length", UNSET))


        def _parse_speedup(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        speedup = _parse_speedup(d.pop("speedup", UNSET))


        def _parse_speedup_int8(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        speedup_int8 = _parse_speedup_int8(d.pop("speedup_int8", UNSET))


        def _parse_speedup_runtime(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        speedup_runtime = _parse_speedup_runtime(d.pop("speedup_runtime", UNSET))


        def _parse_student(data: object) -> NetworkCost | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_0 = NetworkCost.from_dict(data)



                return student_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NetworkCost | None | Unset, data)

        student = _parse_student(d.pop("student", UNSET))


        def _parse_student_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        student_error = _parse_student_error(d.pop("student_error", UNSET))


        def _parse_student_int8(data: object) -> Int8Cost | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_int8_type_0 = Int8Cost.from_dict(data)



                return student_int8_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Int8Cost | None | Unset, data)

        student_int8 = _parse_student_int8(d.pop("student_int8", UNSET))


        def _parse_student_int8_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        student_int8_error = _parse_student_int8_error(d.pop("student_int8_error", UNSET))


        def _parse_student_torch(data: object) -> NetworkCost | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_torch_type_0 = NetworkCost.from_dict(data)



                return student_torch_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NetworkCost | None | Unset, data)

        student_torch = _parse_student_torch(d.pop("student_torch", UNSET))


        def _parse_teacher(data: object) -> NetworkCost | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                teacher_type_0 = NetworkCost.from_dict(data)



                return teacher_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NetworkCost | None | Unset, data)

        teacher = _parse_teacher(d.pop("teacher", UNSET))


        def _parse_teacher_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        teacher_error = _parse_teacher_error(d.pop("teacher_error", UNSET))


        def _parse_threads(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        threads = _parse_threads(d.pop("threads", UNSET))


        def _parse_throughput_batch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        throughput_batch = _parse_throughput_batch(d.pop("throughput_batch", UNSET))


        def _parse_throughput_gain(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        throughput_gain = _parse_throughput_gain(d.pop("throughput_gain", UNSET))


        deployment_report = cls(
            compression=compression,
            compression_int8=compression_int8,
            error=error,
            int8_compression_vs_fp32=int8_compression_vs_fp32,
            int8_speedup_vs_fp32=int8_speedup_vs_fp32,
            latency_batch=latency_batch,
            sequence_length=sequence_length,
            speedup=speedup,
            speedup_int8=speedup_int8,
            speedup_runtime=speedup_runtime,
            student=student,
            student_error=student_error,
            student_int8=student_int8,
            student_int8_error=student_int8_error,
            student_torch=student_torch,
            teacher=teacher,
            teacher_error=teacher_error,
            threads=threads,
            throughput_batch=throughput_batch,
            throughput_gain=throughput_gain,
        )


        deployment_report.additional_properties = d
        return deployment_report

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
