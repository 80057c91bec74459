from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import Literal, cast






T = TypeVar("T", bound="TransferSetBuiltinCreate")



@_attrs_define
class TransferSetBuiltinCreate:
    """ 
        Attributes:
            builtin (Literal['digits']): A built-in set: 'digits' (scikit-learn's 8×8 digits).
            name (str):
            kind (Literal['builtin'] | Unset):  Default: 'builtin'.
     """

    builtin: Literal['digits']
    name: str
    kind: Literal['builtin'] | Unset = 'builtin'





    def to_dict(self) -> dict[str, Any]:
        builtin = self.builtin

        name = self.name

        kind = self.kind


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "builtin": builtin,
            "name": name,
        })
        if kind is not UNSET:
            field_dict["kind"] = kind

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        builtin = cast(Literal['digits'] , d.pop("builtin"))
        if builtin != 'digits':
            raise ValueError(f"builtin must match const 'digits', got '{builtin}'")

        name = d.pop("name")

        kind = cast(Literal['builtin'] | Unset , d.pop("kind", UNSET))
        if kind != 'builtin'and not isinstance(kind, Unset):
            raise ValueError(f"kind must match const 'builtin', got '{kind}'")

        transfer_set_builtin_create = cls(
            builtin=builtin,
            name=name,
            kind=kind,
        )

        return transfer_set_builtin_create

