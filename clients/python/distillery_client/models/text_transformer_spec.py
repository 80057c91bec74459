from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.text_transformer_spec_init import TextTransformerSpecInit
from ..types import UNSET, Unset
from typing import Literal, cast






T = TypeVar("T", bound="TextTransformerSpec")



@_attrs_define
class TextTransformerSpec:
    """ 
        Attributes:
            arch (Literal['transformer']):
            dropout (float | Unset):  Default: 0.1.
            heads (int | Unset):  Default: 4.
            hidden_size (int | Unset):  Default: 256.
            init (TextTransformerSpecInit | Unset): teacher: copy a BERT teacher's embeddings and every k-th layer
                (init_from_teacher); needs the teacher's hidden_size, heads and intermediate_size Default:
                TextTransformerSpecInit.RANDOM.
            intermediate_size (int | Unset):  Default: 1024.
            layers (int | Unset):  Default: 4.
     """

    arch: Literal['transformer']
    dropout: float | Unset = 0.1
    heads: int | Unset = 4
    hidden_size: int | Unset = 256
    init: TextTransformerSpecInit | Unset = TextTransformerSpecInit.RANDOM
    intermediate_size: int | Unset = 1024
    layers: int | Unset = 4





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch

        dropout = self.dropout

        heads = self.heads

        hidden_size = self.hidden_size

        init: str | Unset = UNSET
        if not isinstance(self.init, Unset):
            init = self.init.value


        intermediate_size = self.intermediate_size

        layers = self.layers


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
        })
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if heads is not UNSET:
            field_dict["heads"] = heads
        if hidden_size is not UNSET:
            field_dict["hidden_size"] = hidden_size
        if init is not UNSET:
            field_dict["init"] = init
        if intermediate_size is not UNSET:
            field_dict["intermediate_size"] = intermediate_size
        if layers is not UNSET:
            field_dict["layers"] = layers

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = cast(Literal['transformer'] , d.pop("arch"))
        if arch != 'transformer':
            raise ValueError(f"arch must match const 'transformer', got '{arch}'")

        dropout = d.pop("dropout", UNSET)

        heads = d.pop("heads", UNSET)

        hidden_size = d.pop("hidden_size", UNSET)

        _init = d.pop("init", UNSET)
        init: TextTransformerSpecInit | Unset
        if isinstance(_init,  Unset):
            init = UNSET
        else:
            init = TextTransformerSpecInit(_init)




        intermediate_size = d.pop("intermediate_size", UNSET)

        layers = d.pop("layers", UNSET)

        text_transformer_spec = cls(
            arch=arch,
            dropout=dropout,
            heads=heads,
            hidden_size=hidden_size,
            init=init,
            intermediate_size=intermediate_size,
            layers=layers,
        )

        return text_transformer_spec

