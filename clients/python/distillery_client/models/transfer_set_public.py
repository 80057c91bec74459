from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.transfer_set_public_dtype import TransferSetPublicDtype
from ..models.transfer_set_public_kind import TransferSetPublicKind
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.transfer_set_public_spec_type_0 import TransferSetPublicSpecType0





T = TypeVar("T", bound="TransferSetPublic")



@_attrs_define
class TransferSetPublic:
    """ 
        Attributes:
            builtin (None | str):
            class_names (list[str] | None):
            created_at (datetime.datetime):
            id (str):
            kind (TransferSetPublicKind):
            labelled (bool):
            name (str):
            num_classes (int | None):
            num_samples (int): Samples the student may learn from (the train part).
            num_test (int): Labelled samples results are measured on.
            sample_shape (list[int]):
            sha256 (None | str):
            spec (None | TransferSetPublicSpecType0): Where the data is and how it is fed (preprocessing).
            dtype (TransferSetPublicDtype | Unset): What the samples are: float32, or int64 (ids, counts) or bool where
                every input is; a job checks it against its teachers' input_dtype. text: raw texts, tokenized by a Hugging Face
                teacher's tokenizer when a job runs (sample_shape is then [] until then). Default:
                TransferSetPublicDtype.FLOAT32.
     """

    builtin: None | str
    class_names: list[str] | None
    created_at: datetime.datetime
    id: str
    kind: TransferSetPublicKind
    labelled: bool
    name: str
    num_classes: int | None
    num_samples: int
    num_test: int
    sample_shape: list[int]
    sha256: None | str
    spec: None | TransferSetPublicSpecType0
    dtype: TransferSetPublicDtype | Unset = TransferSetPublicDtype.FLOAT32
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.transfer_set_public_spec_type_0 import TransferSetPublicSpecType0 # noqa: PLC0415
        builtin: None | str
        builtin = self.builtin

        class_names: list[str] | None
        if isinstance(self.class_names, list):
            class_names = self.class_names


        else:
            class_names = self.class_names

        created_at = self.created_at.isoformat()

        id = self.id

        kind = self.kind.value

        labelled = self.labelled

        name = self.name

        num_classes: int | None
        num_classes = self.num_classes

        num_samples = self.num_samples

        num_test = self.num_test

        sample_shape = self.sample_shape



        sha256: None | str
        sha256 = self.sha256

        spec: dict[str, Any] | None
        if isinstance(self.spec, TransferSetPublicSpecType0):
            spec = self.spec.to_dict()
        else:
            spec = self.spec

        dtype: str | Unset = UNSET
        if not isinstance(self.dtype, Unset):
            dtype = self.dtype.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "builtin": builtin,
            "class_names": class_names,
            "created_at": created_at,
            "id": id,
            "kind": kind,
            "labelled": labelled,
            "name": name,
            "num_classes": num_classes,
            "num_samples": num_samples,
            "num_test": num_test,
            "sample_shape": sample_shape,
            "sha256": sha256,
            "spec": spec,
        })
        if dtype is not UNSET:
            field_dict["dtype"] = dtype

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.transfer_set_public_spec_type_0 import TransferSetPublicSpecType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_builtin(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        builtin = _parse_builtin(d.pop("builtin"))


        def _parse_class_names(data: object) -> list[str] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                class_names_type_0 = cast(list[str], data)

                return class_names_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None, data)

        class_names = _parse_class_names(d.pop("class_names"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        id = d.pop("id")

        kind = TransferSetPublicKind(d.pop("kind"))




        labelled = d.pop("labelled")

        name = d.pop("name")

        def _parse_num_classes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        num_classes = _parse_num_classes(d.pop("num_classes"))


        num_samples = d.pop("num_samples")

        num_test = d.pop("num_test")

        sample_shape = cast(list[int], d.pop("sample_shape"))


        def _parse_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sha256 = _parse_sha256(d.pop("sha256"))


        def _parse_spec(data: object) -> None | TransferSetPublicSpecType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                spec_type_0 = TransferSetPublicSpecType0.from_dict(data)



                return spec_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TransferSetPublicSpecType0, data)

        spec = _parse_spec(d.pop("spec"))


        _dtype = d.pop("dtype", UNSET)
        dtype: TransferSetPublicDtype | Unset
        if isinstance(_dtype,  Unset):
            dtype = UNSET
        else:
            dtype = TransferSetPublicDtype(_dtype)




        transfer_set_public = cls(
            builtin=builtin,
            class_names=class_names,
            created_at=created_at,
            id=id,
            kind=kind,
            labelled=labelled,
            name=name,
            num_classes=num_classes,
            num_samples=num_samples,
            num_test=num_test,
            sample_shape=sample_shape,
            sha256=sha256,
            spec=spec,
            dtype=dtype,
        )


        transfer_set_public.additional_properties = d
        return transfer_set_public

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
