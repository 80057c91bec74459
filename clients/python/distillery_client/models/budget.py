from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="Budget")



@_attrs_define
class Budget:
    """ Upper bounds on the student's cost; a member is within budget when it meets every bound given.

        Attributes:
            latency_ms_p50 (float | None | Unset): Median milliseconds of one call at batch 1, the fp32 ONNX student on the
                worker's CPU (as result.deployment measures it).
            parameters (int | None | Unset): The student's trainable weights.
            size_bytes (int | None | Unset): Bytes of the student's fp32 ONNX file.
     """

    latency_ms_p50: float | None | Unset = UNSET
    parameters: int | None | Unset = UNSET
    size_bytes: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        latency_ms_p50: float | None | Unset
        if isinstance(self.latency_ms_p50, Unset):
            latency_ms_p50 = UNSET
        else:
            latency_ms_p50 = self.latency_ms_p50

        parameters: int | None | Unset
        if isinstance(self.parameters, Unset):
            parameters = UNSET
        else:
            parameters = self.parameters

        size_bytes: int | None | Unset
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if latency_ms_p50 is not UNSET:
            field_dict["latency_ms_p50"] = latency_ms_p50
        if parameters is not UNSET:
            field_dict["parameters"] = parameters
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_latency_ms_p50(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        latency_ms_p50 = _parse_latency_ms_p50(d.pop("latency_ms_p50", UNSET))


        def _parse_parameters(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        parameters = _parse_parameters(d.pop("parameters", UNSET))


        def _parse_size_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))


        budget = cls(
            latency_ms_p50=latency_ms_p50,
            parameters=parameters,
            size_bytes=size_bytes,
        )

        return budget

