from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.network_cost_export_sizes_type_0 import NetworkCostExportSizesType0





T = TypeVar("T", bound="NetworkCost")



@_attrs_define
class NetworkCost:
    """ One network's size and speed on the worker's CPU.

        Attributes:
            export_sizes (NetworkCostExportSizesType0 | None | Unset): The student: each exported file's bytes, by format.
            format_ (None | str | Unset):
            in_sandbox (bool | None | Unset): A teacher: timed inside its sandbox.
            inputs (list[str] | None | Unset): A text student: the token-id inputs its ONNX file was timed with
                ('input_ids', and 'attention_mask' for a transformer).
            latency_ms_p50 (float | None | Unset): Median milliseconds of one call at batch 1.
            latency_ms_p90 (float | None | Unset): 90th percentile milliseconds of one call at batch 1.
            mode (None | str | Unset): student_torch: how torch ran the student, the way the teacher runs: 'torchscript'
                (scripted), 'exported_program' (a torch.export graph) or 'eager'.
            parameters (int | None | Unset): Weights: a torch network's parameters; for an ONNX teacher, the elements of its
                floating-point initializers.
            runtime (None | str | Unset): What ran it, with its version (onnxruntime or torch).
            samples_per_second (float | None | Unset): Throughput at batch 64.
            size_bytes (int | None | Unset): The uploaded teacher file, or the exported student file.
            threads (int | None | Unset): Intra-op threads it ran on.
     """

    export_sizes: NetworkCostExportSizesType0 | None | Unset = UNSET
    format_: None | str | Unset = UNSET
    in_sandbox: bool | None | Unset = UNSET
    inputs: list[str] | None | Unset = UNSET
    latency_ms_p50: float | None | Unset = UNSET
    latency_ms_p90: float | None | Unset = UNSET
    mode: None | str | Unset = UNSET
    parameters: int | None | Unset = UNSET
    runtime: None | str | Unset = UNSET
    samples_per_second: float | None | Unset = UNSET
    size_bytes: int | None | Unset = UNSET
    threads: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.network_cost_export_sizes_type_0 import NetworkCostExportSizesType0 # noqa: PLC0415
        export_sizes: dict[str, Any] | None | Unset
        if isinstance(self.export_sizes, Unset):
            export_sizes = UNSET
        elif isinstance(self.export_sizes, NetworkCostExportSizesType0):
            export_sizes = self.export_sizes.to_dict()
        else:
            export_sizes = self.export_sizes

        format_: None | str | Unset
        if isinstance(self.format_, Unset):
            format_ = UNSET
        else:
            format_ = self.format_

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

        threads: int | None | Unset
        if isinstance(self.threads, Unset):
            threads = UNSET
        else:
            threads = self.threads


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if export_sizes is not UNSET:
            field_dict["export_sizes"] = export_sizes
        if format_ is not UNSET:
            field_dict["format"] = format_
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
        if runtime is not UNSET:
            field_dict["runtime"] = runtime
        if samples_per_second is not UNSET:
            field_dict["samples_per_second"] = samples_per_second
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if threads is not UNSET:
            field_dict["threads"] = threads

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.network_cost_export_sizes_type_0 import NetworkCostExportSizesType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_export_sizes(data: object) -> NetworkCostExportSizesType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                export_sizes_type_0 = NetworkCostExportSizesType0.from_dict(data)



                return export_sizes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(NetworkCostExportSizesType0 | None | Unset, data)

        export_sizes = _parse_export_sizes(d.pop("export_sizes", UNSET))


        def _parse_format_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        format_ = _parse_format_(d.pop("format", UNSET))


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


        def _parse_threads(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        threads = _parse_threads(d.pop("threads", UNSET))


        network_cost = cls(
            export_sizes=export_sizes,
            format_=format_,
            in_sandbox=in_sandbox,
            inputs=inputs,
            latency_ms_p50=latency_ms_p50,
            latency_ms_p90=latency_ms_p90,
            mode=mode,
            parameters=parameters,
            runtime=runtime,
            samples_per_second=samples_per_second,
            size_bytes=size_bytes,
            threads=threads,
        )


        network_cost.additional_properties = d
        return network_cost

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
