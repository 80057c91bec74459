from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.preprocessing_color_type_0 import PreprocessingColorType0
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.normalize import Normalize





T = TypeVar("T", bound="Preprocessing")



@_attrs_define
class Preprocessing:
    """ Applied in this order: color, resize, center_crop, to-tensor (values in [0, 1]), normalize.

        Attributes:
            center_crop (int | list[int] | None | Unset): Crop the center to this size.
            color (None | PreprocessingColorType0 | Unset): Convert every image; by default single-channel images stay
                single-channel and the rest become RGB.
            normalize (None | Normalize | Unset):
            resize (int | list[int] | None | Unset): Resize to this size (an int resizes the shorter side).
     """

    center_crop: int | list[int] | None | Unset = UNSET
    color: None | PreprocessingColorType0 | Unset = UNSET
    normalize: None | Normalize | Unset = UNSET
    resize: int | list[int] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.normalize import Normalize # noqa: PLC0415
        center_crop: int | list[int] | None | Unset
        if isinstance(self.center_crop, Unset):
            center_crop = UNSET
        elif isinstance(self.center_crop, list):
            center_crop = []
            for center_crop_type_1_item_data in self.center_crop:
                center_crop_type_1_item: int
                center_crop_type_1_item = center_crop_type_1_item_data
                center_crop.append(center_crop_type_1_item)


        else:
            center_crop = self.center_crop

        color: None | str | Unset
        if isinstance(self.color, Unset):
            color = UNSET
        elif isinstance(self.color, PreprocessingColorType0):
            color = self.color.value
        else:
            color = self.color

        normalize: dict[str, Any] | None | Unset
        if isinstance(self.normalize, Unset):
            normalize = UNSET
        elif isinstance(self.normalize, Normalize):
            normalize = self.normalize.to_dict()
        else:
            normalize = self.normalize

        resize: int | list[int] | None | Unset
        if isinstance(self.resize, Unset):
            resize = UNSET
        elif isinstance(self.resize, list):
            resize = []
            for resize_type_1_item_data in self.resize:
                resize_type_1_item: int
                resize_type_1_item = resize_type_1_item_data
                resize.append(resize_type_1_item)


        else:
            resize = self.resize


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if center_crop is not UNSET:
            field_dict["center_crop"] = center_crop
        if color is not UNSET:
            field_dict["color"] = color
        if normalize is not UNSET:
            field_dict["normalize"] = normalize
        if resize is not UNSET:
            field_dict["resize"] = resize

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.normalize import Normalize # noqa: PLC0415
        d = dict(src_dict)
        def _parse_center_crop(data: object) -> int | list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                center_crop_type_1 = []
                _center_crop_type_1 = data
                for center_crop_type_1_item_data in (_center_crop_type_1):
                    def _parse_center_crop_type_1_item(data: object) -> int:
                        return cast(int, data)

                    center_crop_type_1_item = _parse_center_crop_type_1_item(center_crop_type_1_item_data)

                    center_crop_type_1.append(center_crop_type_1_item)

                return center_crop_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(int | list[int] | None | Unset, data)

        center_crop = _parse_center_crop(d.pop("center_crop", UNSET))


        def _parse_color(data: object) -> None | PreprocessingColorType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                color_type_0 = PreprocessingColorType0(data)



                return color_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PreprocessingColorType0 | Unset, data)

        color = _parse_color(d.pop("color", UNSET))


        def _parse_normalize(data: object) -> None | Normalize | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                normalize_type_0 = Normalize.from_dict(data)



                return normalize_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Normalize | Unset, data)

        normalize = _parse_normalize(d.pop("normalize", UNSET))


        def _parse_resize(data: object) -> int | list[int] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                resize_type_1 = []
                _resize_type_1 = data
                for resize_type_1_item_data in (_resize_type_1):
                    def _parse_resize_type_1_item(data: object) -> int:
                        return cast(int, data)

                    resize_type_1_item = _parse_resize_type_1_item(resize_type_1_item_data)

                    resize_type_1.append(resize_type_1_item)

                return resize_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(int | list[int] | None | Unset, data)

        resize = _parse_resize(d.pop("resize", UNSET))


        preprocessing = cls(
            center_crop=center_crop,
            color=color,
            normalize=normalize,
            resize=resize,
        )

        return preprocessing

