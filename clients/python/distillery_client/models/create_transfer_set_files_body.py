from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..models.create_transfer_set_files_body_kind import CreateTransferSetFilesBodyKind
from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO






T = TypeVar("T", bound="CreateTransferSetFilesBody")



@_attrs_define
class CreateTransferSetFilesBody:
    """ 
        Attributes:
            file (File): .npz with 'x' (float, N×…), optional 'y' (int labels), 'x_test', 'y_test'; or a zip/tar of
                class_name/image.png folders.
            name (str):
            kind (CreateTransferSetFilesBodyKind | Unset): Default: from the file name (.npz, or .zip/.tar/.tar.gz).
            labelled (bool | Unset): Archives: false to ignore class folders.
            preprocessing (str | Unset): Archives: JSON preprocessing spec.
     """

    file: File
    name: str
    kind: CreateTransferSetFilesBodyKind | Unset = UNSET
    labelled: bool | Unset = UNSET
    preprocessing: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        name = self.name

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value


        labelled = self.labelled

        preprocessing = self.preprocessing


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "name": name,
        })
        if kind is not UNSET:
            field_dict["kind"] = kind
        if labelled is not UNSET:
            field_dict["labelled"] = labelled
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        files.append(("name", (None, str(self.name).encode(), "text/plain")))



        if not isinstance(self.kind, Unset):
            files.append(("kind",  (None, str(self.kind.value).encode(), "text/plain")))



        if not isinstance(self.labelled, Unset):
            files.append(("labelled", (None, str(self.labelled).encode(), "text/plain")))



        if not isinstance(self.preprocessing, Unset):
            files.append(("preprocessing", (None, str(self.preprocessing).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        name = d.pop("name")

        _kind = d.pop("kind", UNSET)
        kind: CreateTransferSetFilesBodyKind | Unset
        if isinstance(_kind,  Unset):
            kind = UNSET
        else:
            kind = CreateTransferSetFilesBodyKind(_kind)




        labelled = d.pop("labelled", UNSET)

        preprocessing = d.pop("preprocessing", UNSET)

        create_transfer_set_files_body = cls(
            file=file,
            name=name,
            kind=kind,
            labelled=labelled,
            preprocessing=preprocessing,
        )


        create_transfer_set_files_body.additional_properties = d
        return create_transfer_set_files_body

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
