from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="Normalize")



@_attrs_define
class Normalize:
    """ 
        Attributes:
            mean (list[float]):
            std (list[float]):
     """

    mean: list[float]
    std: list[float]





    def to_dict(self) -> dict[str, Any]:
        mean = self.mean



        std = self.std




        field_dict: dict[str, Any] = {}

        field_dict.update({
            "mean": mean,
            "std": std,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        mean = cast(list[float], d.pop("mean"))


        std = cast(list[float], d.pop("std"))


        normalize = cls(
            mean=mean,
            std=std,
        )

        return normalize

