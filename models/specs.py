"""Student specifications: what a user may ask for, validated before any network is built.

Pure pydantic (no torch import) so the API can validate a job without building anything.
Adding an architecture is one spec class here and one builder in ``models/zoo.py``.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.text.students import TEXT_ARCHS, TextBiLSTMSpec, TextTransformerSpec

Activation = Literal["relu", "gelu", "tanh", "silu"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class MLPSpec(_Spec):
    arch: Literal["mlp"]
    hidden_sizes: list[Annotated[int, Field(gt=0, le=65536)]] = Field(
        default_factory=lambda: [64, 64], max_length=16
    )
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = "relu"


class CNNSpec(_Spec):
    arch: Literal["cnn"]
    channels: list[Annotated[int, Field(gt=0, le=4096)]] = Field(
        default_factory=lambda: [32, 64], min_length=1, max_length=8
    )
    kernel_size: int = Field(3, ge=1, le=11)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = "relu"


TORCHVISION_ARCHS = ("resnet18", "resnet34", "mobilenet_v3_small", "efficientnet_b0")


class TorchvisionSpec(_Spec):
    """A torchvision classification network, randomly initialised (nothing is downloaded); its
    first convolution takes the input's channels and its head the teacher's classes."""

    arch: Literal["resnet18", "resnet34", "mobilenet_v3_small", "efficientnet_b0"]


class EmbeddingBagSpec(_Spec):
    """A sample is a row of integer ids (categories, tokens; input_dtype int64 or int32): each id is embedded,
    the row's embeddings are pooled (mean, sum or max), and an MLP classifies the pooled vector."""

    arch: Literal["embedding_bag"]
    num_embeddings: int = Field(gt=0, le=10_000_000, description="Ids run from 0 to num_embeddings - 1.")
    embedding_dim: int = Field(32, gt=0, le=4096)
    mode: Literal["mean", "sum", "max"] = "mean"
    hidden_sizes: list[Annotated[int, Field(gt=0, le=65536)]] = Field(default_factory=lambda: [64], max_length=16)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = "relu"


# transformer and bilstm: text students over a Hugging Face teacher's token ids (models/text/students.py)
AnySpec = MLPSpec | CNNSpec | TorchvisionSpec | EmbeddingBagSpec | TextTransformerSpec | TextBiLSTMSpec
StudentSpec = Annotated[AnySpec, Field(discriminator="arch")]
ARCHS = ("mlp", "cnn", *TORCHVISION_ARCHS, "embedding_bag")  # the zoo a safetensors teacher is built from
INTEGER_INPUT_ARCHS = ("embedding_bag", *TEXT_ARCHS)  # archs that take ids; every other arch takes numbers
