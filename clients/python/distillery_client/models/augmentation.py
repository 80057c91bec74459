from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="Augmentation")



@_attrs_define
class Augmentation:
    """ Training-only augmentation of image inputs [C, H, W]; evaluation never augments. Turns the
    teacher-output cache off for training: the teacher runs on each augmented batch.

        Attributes:
            horizontal_flip (bool | Unset): Flip half the images left-right. Default: False.
            random_crop_padding (int | Unset): Pad by this many pixels, crop back at random. Default: 0.
     """

    horizontal_flip: bool | Unset = False
    random_crop_padding: int | Unset = 0





    def to_dict(self) -> dict[str, Any]:
        horizontal_flip = self.horizontal_flip

        random_crop_padding = self.random_crop_padding


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if horizontal_flip is not UNSET:
            field_dict["horizontal_flip"] = horizontal_flip
        if random_crop_padding is not UNSET:
            field_dict["random_crop_padding"] = random_crop_padding

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        horizontal_flip = d.pop("horizontal_flip", UNSET)

        random_crop_padding = d.pop("random_crop_padding", UNSET)

        augmentation = cls(
            horizontal_flip=horizontal_flip,
            random_crop_padding=random_crop_padding,
        )

        return augmentation

