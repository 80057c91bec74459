from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast

if TYPE_CHECKING:
  from ..models.preprocessing import Preprocessing





T = TypeVar("T", bound="TransferSetImageFolderCreate")



@_attrs_define
class TransferSetImageFolderCreate:
    """ A directory of class folders (``class_name/*.png|jpg``) inside a data root; a ``train/`` and ``test/``
    pair gives the test split. Without class folders the set is unlabelled.

        Attributes:
            kind (Literal['image_folder']):
            name (str):
            path (str): Inside one of the server's data roots.
            labelled (bool | Unset):  Default: True.
            preprocessing (Preprocessing | Unset): Applied in this order: color, resize, center_crop, to-tensor (values in
                [0, 1]), normalize.
     """

    kind: Literal['image_folder']
    name: str
    path: str
    labelled: bool | Unset = True
    preprocessing: Preprocessing | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        from ..models.preprocessing import Preprocessing # noqa: PLC0415
        kind = self.kind

        name = self.name

        path = self.path

        labelled = self.labelled

        preprocessing: dict[str, Any] | Unset = UNSET
        if not isinstance(self.preprocessing, Unset):
            preprocessing = self.preprocessing.to_dict()


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "kind": kind,
            "name": name,
            "path": path,
        })
        if labelled is not UNSET:
            field_dict["labelled"] = labelled
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.preprocessing import Preprocessing # noqa: PLC0415
        d = dict(src_dict)
        kind = cast(Literal['image_folder'] , d.pop("kind"))
        if kind != 'image_folder':
            raise ValueError(f"kind must match const 'image_folder', got '{kind}'")

        name = d.pop("name")

        path = d.pop("path")

        labelled = d.pop("labelled", UNSET)

        _preprocessing = d.pop("preprocessing", UNSET)
        preprocessing: Preprocessing | Unset
        if isinstance(_preprocessing,  Unset):
            preprocessing = UNSET
        else:
            preprocessing = Preprocessing.from_dict(_preprocessing)




        transfer_set_image_folder_create = cls(
            kind=kind,
            name=name,
            path=path,
            labelled=labelled,
            preprocessing=preprocessing,
        )

        return transfer_set_image_folder_create

