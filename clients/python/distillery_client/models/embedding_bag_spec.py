from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.embedding_bag_spec_activation import EmbeddingBagSpecActivation
from ..models.embedding_bag_spec_mode import EmbeddingBagSpecMode
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast






T = TypeVar("T", bound="EmbeddingBagSpec")



@_attrs_define
class EmbeddingBagSpec:
    """ A sample is a row of integer ids (categories, tokens; input_dtype int64 or int32): each id is embedded,
    the row's embeddings are pooled (mean, sum or max), and an MLP classifies the pooled vector.

        Attributes:
            arch (Literal['embedding_bag']):
            num_embeddings (int): Ids run from 0 to num_embeddings - 1.
            activation (EmbeddingBagSpecActivation | Unset):  Default: EmbeddingBagSpecActivation.RELU.
            dropout (float | Unset):  Default: 0.0.
            embedding_dim (int | Unset):  Default: 32.
            hidden_sizes (list[int] | Unset):
            mode (EmbeddingBagSpecMode | Unset):  Default: EmbeddingBagSpecMode.MEAN.
     """

    arch: Literal['embedding_bag']
    num_embeddings: int
    activation: EmbeddingBagSpecActivation | Unset = EmbeddingBagSpecActivation.RELU
    dropout: float | Unset = 0.0
    embedding_dim: int | Unset = 32
    hidden_sizes: list[int] | Unset = UNSET
    mode: EmbeddingBagSpecMode | Unset = EmbeddingBagSpecMode.MEAN





    def to_dict(self) -> dict[str, Any]:
        arch = self.arch

        num_embeddings = self.num_embeddings

        activation: str | Unset = UNSET
        if not isinstance(self.activation, Unset):
            activation = self.activation.value


        dropout = self.dropout

        embedding_dim = self.embedding_dim

        hidden_sizes: list[int] | Unset = UNSET
        if not isinstance(self.hidden_sizes, Unset):
            hidden_sizes = self.hidden_sizes



        mode: str | Unset = UNSET
        if not isinstance(self.mode, Unset):
            mode = self.mode.value



        field_dict: dict[str, Any] = {}

        field_dict.update({
            "arch": arch,
            "num_embeddings": num_embeddings,
        })
        if activation is not UNSET:
            field_dict["activation"] = activation
        if dropout is not UNSET:
            field_dict["dropout"] = dropout
        if embedding_dim is not UNSET:
            field_dict["embedding_dim"] = embedding_dim
        if hidden_sizes is not UNSET:
            field_dict["hidden_sizes"] = hidden_sizes
        if mode is not UNSET:
            field_dict["mode"] = mode

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arch = cast(Literal['embedding_bag'] , d.pop("arch"))
        if arch != 'embedding_bag':
            raise ValueError(f"arch must match const 'embedding_bag', got '{arch}'")

        num_embeddings = d.pop("num_embeddings")

        _activation = d.pop("activation", UNSET)
        activation: EmbeddingBagSpecActivation | Unset
        if isinstance(_activation,  Unset):
            activation = UNSET
        else:
            activation = EmbeddingBagSpecActivation(_activation)




        dropout = d.pop("dropout", UNSET)

        embedding_dim = d.pop("embedding_dim", UNSET)

        hidden_sizes = cast(list[int], d.pop("hidden_sizes", UNSET))


        _mode = d.pop("mode", UNSET)
        mode: EmbeddingBagSpecMode | Unset
        if isinstance(_mode,  Unset):
            mode = UNSET
        else:
            mode = EmbeddingBagSpecMode(_mode)




        embedding_bag_spec = cls(
            arch=arch,
            num_embeddings=num_embeddings,
            activation=activation,
            dropout=dropout,
            embedding_dim=embedding_dim,
            hidden_sizes=hidden_sizes,
            mode=mode,
        )

        return embedding_bag_spec

