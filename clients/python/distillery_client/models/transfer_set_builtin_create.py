from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import Literal, cast






T = TypeVar("T", bound="TransferSetBuiltinCreate")



@_attrs_define
class TransferSetBuiltinCreate:
    """ 
        Attributes:
            builtin (Literal['digits']): A built-in set: 'digits' (scikit-learn's 8×8 digits).
            name (str):
     """

    builtin: Literal['digits']
    name: str





    def to_dict(self) -> dict[str, Any]:
        builtin = self.builtin

        name = self.name


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "builtin": builtin,
            "name": name,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        builtin = cast(Literal['digits'] , d.pop("builtin"))
        if builtin != 'digits':
            raise ValueError(f"builtin must match const 'digits', got '{builtin}'")

        name = d.pop("name")

        transfer_set_builtin_create = cls(
            builtin=builtin,
            name=name,
        )

        return transfer_set_builtin_create

