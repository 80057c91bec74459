from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.torchvision_spec_arch import TorchvisionSpecArch






T = TypeVar("T", bound="TorchvisionSpec")



@_attrs_define
class TorchvisionSpec:
    """ A torchvision classification network, randomly initialised (nothing is downloaded); its
    first convolution takes the input's channels and its head the teacher's classes.

        Attributes:
            arch (TorchvisionSpecArch):
     """

    arch: TorchvisionSpecArch





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = TorchvisionSpecArch(d.pop("arch"))




        torchvision_spec = cls(
            arch=arch,
        )

        return torchvision_spec

