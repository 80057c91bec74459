from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.int_8_cost_export_sizes_type_0 import Int8CostExportSizesType0
  from ..models.post_training_answers import PostTrainingAnswers
  from ..models.quantization_aware_answers import QuantizationAwareAnswers





T = TypeVar("T", bound="Int8Cost")



@_attrs_define
class Int8Cost:
    """ The INT8 student: its cost, and what quantization did to its answers on the test split.

        Attributes:
            accuracy_change (float | None | Unset): test_accuracy minus fp32_test_accuracy.
            agreement_with_fp32 (float | None | Unset): Share of test samples where the INT8 and the fp32 students predict
                the same class.
            calibration_samples (int | None | Unset): Transfer-set samples the quantization was calibrated on.
            export_sizes (Int8CostExportSizesType0 | None | Unset): The student: each exported file's bytes, by format.
            format_ (None | str | Unset):
            fp32_test_accuracy (float | None | Unset): The fp32 ONNX student's, run the same way.
            in_sandbox (bool | None | Unset): A teacher: timed inside its sandbox.
            inputs (list[str] | None | Unset): A text student: the token-id inputs its ONNX file was timed with
                ('input_ids', and 'attention_mask' for a transformer).
            latency_ms_p50 (float | None | Unset): Median milliseconds of one call at batch 1.
            latency_ms_p90 (float | None | Unset): 90th percentile milliseconds of one call at batch 1.
            mode (None | str | Unset): student_torch: how torch ran the student, the way the teacher runs: 'torchscript'
                (scripted), 'exported_program' (a torch.export graph) or 'eager'.
            parameters (int | None | Unset): Weights: a torch network's parameters; for an ONNX teacher, the elements of its
                floating-point initializers.
            post_training (None | PostTrainingAnswers | Unset): With quantization_aware: what static quantization alone gave
                the distilled student.
            post_training_error (None | str | Unset): Why the post-training INT8 file for the comparison could not be made.
            quantization (None | str | Unset): How the downloaded INT8 file was made: 'post_training' (the distilled student
                quantized as it is) or 'quantization_aware' (the job's quantization_aware: fine-tuned under fake quantization
                first).
            quantization_aware (None | QuantizationAwareAnswers | Unset): With quantization_aware: the download's figures
                (as at the top) and its fine-tune.
            runtime (None | str | Unset): What ran it, with its version (onnxruntime or torch).
            samples_per_second (float | None | Unset): Throughput at batch 64.
            size_bytes (int | None | Unset): The uploaded teacher file, or the exported student file.
            test_accuracy (float | None | Unset):
            threads (int | None | Unset): Intra-op threads it ran on.
     """

    accuracy_change: float | None | Unset = UNSET
    agreement_with_fp32: float | None | Unset = UNSET
    calibration_samples: int | None | Unset = UNSET
    export_sizes: Int8CostExportSizesType0 | None | Unset = UNSET
    format_: None | str | Unset = UNSET
    fp32_test_accuracy: float | None | Unset = UNSET
    in_sandbox: bool | None | Unset = UNSET
    inputs: list[str] | None | Unset = UNSET
    latency_ms_p50: float | None | Unset = UNSET
    latency_ms_p90: float | None | Unset = UNSET
    mode: None | str | Unset = UNSET
    parameters: int | None | Unset = UNSET
    post_training: None | PostTrainingAnswers | Unset = UNSET
    post_training_error: None | str | Unset = UNSET
    quantization: None | str | Unset = UNSET
    quantization_aware: None | QuantizationAwareAnswers | Unset = UNSET
    runtime: None | str | Unset = UNSET
    samples_per_second: float | None | Unset = UNSET
    size_bytes: int | None | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    threads: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.int_8_cost_export_sizes_type_0 import Int8CostExportSizesType0 # noqa: PLC0415
        from ..models.post_training_answers import PostTrainingAnswers # noqa: PLC0415
        from ..models.quantization_aware_answers import QuantizationAwareAnswers # noqa: PLC0415
        accuracy_change: float | None | Unset
        if isinstance(self.accuracy_change, Unset):
            accuracy_change = UNSET
        else:
            accuracy_change = self.accuracy_change

        agreement_with_fp32: float | None | Unset
        if isinstance(self.agreement_with_fp32, Unset):
            agreement_with_fp32 = UNSET
        else:
            agreement_with_fp32 = self.agreement_with_fp32

        calibration_samples: int | None | Unset
        if isinstance(self.calibration_samples, Unset):
            calibration_samples = UNSET
        else:
            calibration_samples = self.calibration_samples

        export_sizes: dict[str, Any] | None | Unset
        if isinstance(self.export_sizes, Unset):
            export_sizes = UNSET
        elif isinstance(self.export_sizes, Int8CostExportSizesType0):
            export_sizes = self.export_sizes.to_dict()
        else:
            export_sizes = self.export_sizes

        format_: None | str | Unset
        if isinstance(self.format_, Unset):
            format_ = UNSET
        else:
            format_ = self.format_

        fp32_test_accuracy: float | None | Unset
        if isinstance(self.fp32_test_accuracy, Unset):
            fp32_test_accuracy = UNSET
        else:
            fp32_test_accuracy = self.fp32_test_accuracy

        in_sandbox: bool | None | Unset
        if isinstance(self.in_sandbox, Unset):
            in_sandbox = UNSET
        else:
            in_sandbox = self.in_sandbox

        inputs: list[str] | None | Unset
        if isinstance(self.inputs, Unset):
            inputs = UNSET
        elif isinstance(self.inputs, list):
            inputs = self.inputs


        else:
            inputs = self.inputs

        latency_ms_p50: float | None | Unset
        if isinstance(self.latency_ms_p50, Unset):
            latency_ms_p50 = UNSET
        else:
            latency_ms_p50 = self.latency_ms_p50

        latency_ms_p90: float | None | Unset
        if isinstance(self.latency_ms_p90, Unset):
            latency_ms_p90 = UNSET
        else:
            latency_ms_p90 = self.latency_ms_p90

        mode: None | str | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        else:
            mode = self.mode

        parameters: int | None | Unset
        if isinstance(self.parameters, Unset):
            parameters = UNSET
        else:
            parameters = self.parameters

        post_training: dict[str, Any] | None | Unset
        if isinstance(self.post_training, Unset):
            post_training = UNSET
        elif isinstance(self.post_training, PostTrainingAnswers):
            post_training = self.post_training.to_dict()
        else:
            post_training = self.post_training

        post_training_error: None | str | Unset
        if isinstance(self.post_training_error, Unset):
            post_training_error = UNSET
        else:
            post_training_error = self.post_training_error

        quantization: None | str | Unset
        if isinstance(self.quantization, Unset):
            quantization = UNSET
        else:
            quantization = self.quantization

        quantization_aware: dict[str, Any] | None | Unset
        if isinstance(self.quantization_aware, Unset):
            quantization_aware = UNSET
        elif isinstance(self.quantization_aware, QuantizationAwareAnswers):
            quantization_aware = self.quantization_aware.to_dict()
        else:
            quantization_aware = self.quantization_aware

        runtime: None | str | Unset
        if isinstance(self.runtime, Unset):
            runtime = UNSET
        else:
            runtime = self.runtime

        samples_per_second: float | None | Unset
        if isinstance(self.samples_per_second, Unset):
            samples_per_second = UNSET
        else:
            samples_per_second = self.samples_per_second

        size_bytes: int | None | Unset
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes

        test_accuracy: float | None | Unset
        if isinstance(self.test_accuracy, Unset):
            test_accuracy = UNSET
        else:
            test_accuracy = self.test_accuracy

        threads: int | None | Unset
        if isinstance(self.threads, Unset):
            threads = UNSET
        else:
            threads = self.threads


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if accuracy_change is not UNSET:
            field_dict["accuracy_change"] = accuracy_change
        if agreement_with_fp32 is not UNSET:
            field_dict["agreement_with_fp32"] = agreement_with_fp32
        if calibration_samples is not UNSET:
            field_dict["calibration_samples"] = calibration_samples
        if export_sizes is not UNSET:
            field_dict["export_sizes"] = export_sizes
        if format_ is not UNSET:
            field_dict["format"] = format_
        if fp32_test_accuracy is not UNSET:
            field_dict["fp32_test_accuracy"] = fp32_test_accuracy
        if in_sandbox is not UNSET:
            field_dict["in_sandbox"] = in_sandbox
        if inputs is not UNSET:
            field_dict["inputs"] = inputs
        if latency_ms_p50 is not UNSET:
            field_dict["latency_ms_p50"] = latency_ms_p50
        if latency_ms_p90 is not UNSET:
            field_dict["latency_ms_p90"] = latency_ms_p90
        if mode is not UNSET:
            field_dict["mode"] = mode
        if parameters is not UNSET:
            field_dict["parameters"] = parameters
        if post_training is not UNSET:
            field_dict["post_training"] = post_training
        if post_training_error is not UNSET:
            field_dict["post_training_error"] = post_training_error
        if quantization is not UNSET:
            field_dict["quantization"] = quantization
        if quantization_aware is not UNSET:
            field_dict["quantization_aware"] = quantization_aware
        if runtime is not UNSET:
            field_dict["runtime"] = runtime
        if samples_per_second is not UNSET:
            field_dict["samples_per_second"] = samples_per_second
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy
        if threads is not UNSET:
            field_dict["threads"] = threads

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.int_8_cost_export_sizes_type_0 import Int8CostExportSizesType0 # noqa: PLC0415
        from ..models.post_training_answers import PostTrainingAnswers # noqa: PLC0415
        from ..models.quantization_aware_answers import QuantizationAwareAnswers # noqa: PLC0415
        d = dict(src_dict)
        def _parse_accuracy_change(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        accuracy_change = _parse_accuracy_change(d.pop("accuracy_change", UNSET))


        def _parse_agreement_with_fp32(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        agreement_with_fp32 = _parse_agreement_with_fp32(d.pop("agreement_with_fp32", UNSET))


        def _parse_calibration_samples(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        calibration_samples = _parse_calibration_samples(d.pop("calibration_samples", UNSET))


        def _parse_export_sizes(data: object) -> Int8CostExportSizesType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                export_sizes_type_0 = Int8CostExportSizesType0.from_dict(data)



                return export_sizes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Int8CostExportSizesType0 | None | Unset, data)

        export_sizes = _parse_export_sizes(d.pop("export_sizes", UNSET))


        def _parse_format_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        format_ = _parse_format_(d.pop("format", UNSET))


        def _parse_fp32_test_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        fp32_test_accuracy = _parse_fp32_test_accuracy(d.pop("fp32_test_accuracy", UNSET))


        def _parse_in_sandbox(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        in_sandbox = _parse_in_sandbox(d.pop("in_sandbox", UNSET))


        def _parse_inputs(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                inputs_type_0 = cast(list[str], data)

                return inputs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        inputs = _parse_inputs(d.pop("inputs", UNSET))


        def _parse_latency_ms_p50(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        latency_ms_p50 = _parse_latency_ms_p50(d.pop("latency_ms_p50", UNSET))


        def _parse_latency_ms_p90(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        latency_ms_p90 = _parse_latency_ms_p90(d.pop("latency_ms_p90", UNSET))


        def _parse_mode(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        mode = _parse_mode(d.pop("mode", UNSET))


        def _parse_parameters(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        parameters = _parse_parameters(d.pop("parameters", UNSET))


        def _parse_post_training(data: object) -> None | PostTrainingAnswers | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                post_training_type_0 = PostTrainingAnswers.from_dict(data)



                return post_training_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PostTrainingAnswers | Unset, data)

        post_training = _parse_post_training(d.pop("post_training", UNSET))


        def _parse_post_training_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        post_training_error = _parse_post_training_error(d.pop("post_training_error", UNSET))


        def _parse_quantization(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        quantization = _parse_quantization(d.pop("quantization", UNSET))


        def _parse_quantization_aware(data: object) -> None | QuantizationAwareAnswers | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                quantization_aware_type_0 = QuantizationAwareAnswers.from_dict(data)



                return quantization_aware_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | QuantizationAwareAnswers | Unset, data)

        quantization_aware = _parse_quantization_aware(d.pop("quantization_aware", UNSET))


        def _parse_runtime(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        runtime = _parse_runtime(d.pop("runtime", UNSET))


        def _parse_samples_per_second(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        samples_per_second = _parse_samples_per_second(d.pop("samples_per_second", UNSET))


        def _parse_size_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))


        def _parse_test_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        test_accuracy = _parse_test_accuracy(d.pop("test_accuracy", UNSET))


        def _parse_threads(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        threads = _parse_threads(d.pop("threads", UNSET))


        int_8_cost = cls(
            accuracy_change=accuracy_change,
            agreement_with_fp32=agreement_with_fp32,
            calibration_samples=calibration_samples,
            export_sizes=export_sizes,
            format_=format_,
            fp32_test_accuracy=fp32_test_accuracy,
            in_sandbox=in_sandbox,
            inputs=inputs,
            latency_ms_p50=latency_ms_p50,
            latency_ms_p90=latency_ms_p90,
            mode=mode,
            parameters=parameters,
            post_training=post_training,
            post_training_error=post_training_error,
            quantization=quantization,
            quantization_aware=quantization_aware,
            runtime=runtime,
            samples_per_second=samples_per_second,
            size_bytes=size_bytes,
            test_accuracy=test_accuracy,
            threads=threads,
        )


        int_8_cost.additional_properties = d
        return int_8_cost

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
