from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="TemperatureCandidate")



@_attrs_define
class TemperatureCandidate:
    """ One grid temperature as temperature_method 'soft_targets' scored it, before any training.

        Attributes:
            normalized_entropy (float): Mean entropy of the softened teacher, over log(classes).
            off_top_mass (float): Mean probability the softened teacher puts off its top class.
            score (float): |log(off_top_mass / target)|: lower is nearer the target.
            status (str): chosen or candidate.
            temperature (float):
     """

    normalized_entropy: float
    off_top_mass: float
    score: float
    status: str
    temperature: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        normalized_entropy = self.normalized_entropy

        off_top_mass = self.off_top_mass

        score = self.score

        status = self.status

        temperature = self.temperature


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "normalized_entropy": normalized_entropy,
            "off_top_mass": off_top_mass,
            "score": score,
            "status": status,
            "temperature": temperature,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        normalized_entropy = d.pop("normalized_entropy")

        off_top_mass = d.pop("off_top_mass")

        score = d.pop("score")

        status = d.pop("status")

        temperature = d.pop("temperature")

        temperature_candidate = cls(
            normalized_entropy=normalized_entropy,
            off_top_mass=off_top_mass,
            score=score,
            status=status,
            temperature=temperature,
        )


        temperature_candidate.additional_properties = d
        return temperature_candidate

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
