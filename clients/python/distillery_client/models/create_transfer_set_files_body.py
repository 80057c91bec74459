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
            file (File): .npz with 'x' (float, or int/bool ids, N×…), optional 'y' (int labels), 'x_test', 'y_test'; a .csv
                or .parquet table (one row a sample); a .jsonl of texts (one {"text": ..., "label": ...} a line); or a zip/tar
                of class_name/image.png folders.
            name (str):
            feature_columns (str | Unset): Tables: JSON list of the feature columns, in order (default: every column but the
                label and the split, in file order).
            kind (CreateTransferSetFilesBodyKind | Unset): Default: from the file name (.npz; .csv/.parquet; .jsonl: text;
                or .zip/.tar/.tar.gz). text with a .csv: a CSV of texts.
            label_column (str | Unset): Tables and text sets: the column of class numbers or names (default 'label'; without
                it the set is unlabelled). A 'split' column of 'train'/'test' gives the test split.
            labelled (bool | Unset): Archives: false to ignore class folders.
            preprocessing (str | Unset): Archives: JSON preprocessing spec.
            text_column (str | Unset): Text sets: the column of texts (default 'text').
     """

    file: File
    name: str
    feature_columns: str | Unset = UNSET
    kind: CreateTransferSetFilesBodyKind | Unset = UNSET
    label_column: str | Unset = UNSET
    labelled: bool | Unset = UNSET
    preprocessing: str | Unset = UNSET
    text_column: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        name = self.name

        feature_columns = self.feature_columns

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value


        label_column = self.label_column

        labelled = self.labelled

        preprocessing = self.preprocessing

        text_column = self.text_column


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "name": name,
        })
        if feature_columns is not UNSET:
            field_dict["feature_columns"] = feature_columns
        if kind is not UNSET:
            field_dict["kind"] = kind
        if label_column is not UNSET:
            field_dict["label_column"] = label_column
        if labelled is not UNSET:
            field_dict["labelled"] = labelled
        if preprocessing is not UNSET:
            field_dict["preprocessing"] = preprocessing
        if text_column is not UNSET:
            field_dict["text_column"] = text_column

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        files.append(("name", (None, str(self.name).encode(), "text/plain")))



        if not isinstance(self.feature_columns, Unset):
            files.append(("feature_columns", (None, str(self.feature_columns).encode(), "text/plain")))



        if not isinstance(self.kind, Unset):
            files.append(("kind",  (None, str(self.kind.value).encode(), "text/plain")))



        if not isinstance(self.label_column, Unset):
            files.append(("label_column", (None, str(self.label_column).encode(), "text/plain")))



        if not isinstance(self.labelled, Unset):
            files.append(("labelled", (None, str(self.labelled).encode(), "text/plain")))



        if not isinstance(self.preprocessing, Unset):
            files.append(("preprocessing", (None, str(self.preprocessing).encode(), "text/plain")))



        if not isinstance(self.text_column, Unset):
            files.append(("text_column", (None, str(self.text_column).encode(), "text/plain")))




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

        feature_columns = d.pop("feature_columns", UNSET)

        _kind = d.pop("kind", UNSET)
        kind: CreateTransferSetFilesBodyKind | Unset
        if isinstance(_kind,  Unset):
            kind = UNSET
        else:
            kind = CreateTransferSetFilesBodyKind(_kind)




        label_column = d.pop("label_column", UNSET)

        labelled = d.pop("labelled", UNSET)

        preprocessing = d.pop("preprocessing", UNSET)

        text_column = d.pop("text_column", UNSET)

        create_transfer_set_files_body = cls(
            file=file,
            name=name,
            feature_columns=feature_columns,
            kind=kind,
            label_column=label_column,
            labelled=labelled,
            preprocessing=preprocessing,
            text_column=text_column,
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
