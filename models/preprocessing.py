"""Preprocessing as data: how images become tensors. Deterministic — the same for training and
evaluation — and part of the teacher-output cache key. Training-only augmentation is separate
(``worker/engine/augment.py``)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Size = int | tuple[int, int]


class Normalize(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    mean: list[float] = Field(min_length=1, max_length=4)
    std: list[Annotated[float, Field(gt=0)]] = Field(min_length=1, max_length=4)


class Preprocessing(BaseModel):
    """Applied in this order: color, resize, center_crop, to-tensor (values in [0, 1]), normalize."""

    model_config = ConfigDict(extra="forbid")

    color: Literal["rgb", "grayscale"] | None = Field(
        None, description="Convert every image; by default single-channel images stay single-channel and "
        "the rest become RGB.")
    resize: Size | None = Field(None, description="Resize to this size (an int resizes the shorter side).")
    center_crop: Size | None = Field(None, description="Crop the center to this size.")
    normalize: Normalize | None = None

    def transform(self):
        from torchvision import transforms as T

        steps = []
        if self.color == "rgb":
            steps.append(T.Lambda(lambda im: im.convert("RGB")))
        elif self.color == "grayscale":
            steps.append(T.Lambda(lambda im: im.convert("L")))
        else:
            steps.append(T.Lambda(lambda im: im if im.mode in ("L", "RGB") else
                                  im.convert("L" if im.mode in ("1", "I", "I;16", "F") else "RGB")))
        if self.resize is not None:
            steps.append(T.Resize(self.resize, antialias=True))
        if self.center_crop is not None:
            steps.append(T.CenterCrop(self.center_crop))
        steps.append(T.ToTensor())
        if self.normalize is not None:
            steps.append(T.Normalize(self.normalize.mean, self.normalize.std))
        return T.Compose(steps)

    def fixes_size(self) -> bool:
        return self.center_crop is not None or isinstance(self.resize, tuple | list)
