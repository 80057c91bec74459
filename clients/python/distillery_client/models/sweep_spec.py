from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="SweepSpec")



@_attrs_define
class SweepSpec:
    """ A grid over the loss settings; every combination is one member, trained on the same cached
    teacher outputs. The member with the best validation accuracy becomes the job's student.

        Attributes:
            hard_weight (list[float] | None | Unset):
            soft_weight (list[float] | None | Unset):
            temperature (list[float] | None | Unset): Temperatures to try, e.g. [1, 2, 5].
     """

    hard_weight: list[float] | None | Unset = UNSET
    soft_weight: list[float] | None | Unset = UNSET
    temperature: list[float] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        hard_weight: list[float] | None | Unset
        if isinstance(self.hard_weight, Unset):
            hard_weight = UNSET
        elif isinstance(self.hard_weight, list):
            hard_weight = self.hard_weight


        else:
            hard_weight = self.hard_weight

        soft_weight: list[float] | None | Unset
        if isinstance(self.soft_weight, Unset):
            soft_weight = UNSET
        elif isinstance(self.soft_weight, list):
            soft_weight = self.soft_weight


        else:
            soft_weight = self.soft_weight

        temperature: list[float] | None | Unset
        if isinstance(self.temperature, Unset):
            temperature = UNSET
        elif isinstance(self.temperature, list):
            temperature = self.temperature


        else:
            temperature = self.temperature


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if hard_weight is not UNSET:
            field_dict["hard_weight"] = hard_weight
        if soft_weight is not UNSET:
            field_dict["soft_weight"] = soft_weight
        if temperature is not UNSET:
            field_dict["temperature"] = temperature

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_hard_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                hard_weight_type_0 = cast(list[float], data)

                return hard_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        hard_weight = _parse_hard_weight(d.pop("hard_weight", UNSET))


        def _parse_soft_weight(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                soft_weight_type_0 = cast(list[float], data)

                return soft_weight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        soft_weight = _parse_soft_weight(d.pop("soft_weight", UNSET))


        def _parse_temperature(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                temperature_type_0 = cast(list[float], data)

                return temperature_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        temperature = _parse_temperature(d.pop("temperature", UNSET))


        sweep_spec = cls(
            hard_weight=hard_weight,
            soft_weight=soft_weight,
            temperature=temperature,
        )

        return sweep_spec

