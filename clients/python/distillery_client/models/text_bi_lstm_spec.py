from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import Literal, cast






T = TypeVar("T", bound="TextBiLSTMSpec")



@_attrs_define
class TextBiLSTMSpec:
    """ 
        Attributes:
            arch (Literal['bilstm']):
            dropout (float | Unset):  Default: 0.1.
            embedding_dim (int | Unset):  Default: 128.
            hidden_size (int | Unset):  Default: 256.
            layers (int | Unset):  Default: 1.
     """

    arch: Literal['bilstm']
    dropout: float | Unset = 0.1
    embedding_dim: int | Unset = 128
    hidden_size: int | Unset = 256
    layers: int | Unset = 1





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch

        dropout = self.dropout

        embedding_dim = self.embedding_dim

        hidden_size = self.hidden_size

        layers = self.layers


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
        })
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if embedding_dim is not UNSET:
            field_dict["embedding_dim"] = embedding_dim
        if hidden_size is not UNSET:
            field_dict["hidden_size"] = hidden_size
        if layers is not UNSET:
            field_dict["layers"] = layers

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = cast(Literal['bilstm'] , d.pop("arch"))
        if arch != 'bilstm':
            raise ValueError(f"arch must match const 'bilstm', got '{arch}'")

        dropout = d.pop("dropout", UNSET)

        embedding_dim = d.pop("embedding_dim", UNSET)

        hidden_size = d.pop("hidden_size", UNSET)

        layers = d.pop("layers", UNSET)

        text_bi_lstm_spec = cls(
            arch=arch,
            dropout=dropout,
            embedding_dim=embedding_dim,
            hidden_size=hidden_size,
            layers=layers,
        )

        return text_bi_lstm_spec

