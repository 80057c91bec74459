from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.mlp_spec_activation import MLPSpecActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="MLPSpec")



@_attrs_define
class MLPSpec:
    """ 
        Attributes:
            arch (Literal['mlp']):
            activation (MLPSpecActivation | Unset):  Default: MLPSpecActivation.RELU.
            dropout (float | Unset):  Default: 0.0.
            hidden_sizes (list[int] | Unset):
     """

    arch: Literal['mlp']
    activation: MLPSpecActivation | Unset = MLPSpecActivation.RELU
    dropout: float | Unset = 0.0
    hidden_sizes: list[int] | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        dropout = self.dropout

        hidden_sizes: list[int] | Unset = UNSET
        if not isinstance(self.hidden_sizes, Unset):
            hidden_sizes = self.hidden_sizes




        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if hidden_sizes is not UNSET:
            field_dict["hidden_sizes"] = hidden_sizes

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = cast(Literal['mlp'] , d.pop("arch"))
        if arch != 'mlp':
            raise ValueError(f"arch must match const 'mlp', got '{arch}'")

        _activation = d.pop("activation", UNSET)
        activation: MLPSpecActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = MLPSpecActivation(_activation)




        dropout = d.pop("dropout", UNSET)

        hidden_sizes = cast(list[int], d.pop("hidden_sizes", UNSET))


        mlp_spec = cls(
            arch=arch,
            activation=activation,
            dropout=dropout,
            hidden_sizes=hidden_sizes,
        )

        return mlp_spec

