from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.cnn_spec_activation import CNNSpecActivation
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="CNNSpec")



@_attrs_define
class CNNSpec:
    """ 
        Attributes:
            arch (Literal['cnn']):
            activation (CNNSpecActivation | Unset):  Default: CNNSpecActivation.RELU.
            channels (list[int] | Unset):
            dropout (float | Unset):  Default: 0.0.
            kernel_size (int | Unset):  Default: 3.
     """

    arch: Literal['cnn']
    activation: CNNSpecActivation | Unset = CNNSpecActivation.RELU
    channels: list[int] | Unset = UNSET
    dropout: float | Unset = 0.0
    kernel_size: int | Unset = 3





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        channels: list[int] | Unset = UNSET
        if not isinstance(self.channels, Unset):
            channels = self.channels



        dropout = self.dropout

        kernel_size = self.kernel_size


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if channels is not UNSET:
            field_dict["channels"] = channels
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if kernel_size is not UNSET:
            field_dict["kernel_size"] = kernel_size

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = cast(Literal['cnn'] , d.pop("arch"))
        if arch != 'cnn':
            raise ValueError(f"arch must match const 'cnn', got '{arch}'")

        _activation = d.pop("activation", UNSET)
        activation: CNNSpecActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = CNNSpecActivation(_activation)




        channels = cast(list[int], d.pop("channels", UNSET))


        dropout = d.pop("dropout", UNSET)

        kernel_size = d.pop("kernel_size", UNSET)

        cnn_spec = cls(
            arch=arch,
            activation=activation,
            channels=channels,
            dropout=dropout,
            kernel_size=kernel_size,
        )

        return cnn_spec

