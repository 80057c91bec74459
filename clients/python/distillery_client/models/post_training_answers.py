from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="PostTrainingAnswers")



@_attrs_define
class PostTrainingAnswers:
    """ The distilled student quantized as it is (static quantization alone); not downloadable.

        Attributes:
            accuracy_change (float | None | Unset): test_accuracy minus the fp32 student's.
            agreement_with_fp32 (float | None | Unset): Share of test samples where this INT8 file and the fp32 student
                predict the same class.
            size_bytes (int | None | Unset):
            test_accuracy (float | None | Unset):
     """

    accuracy_change: float | None | Unset = UNSET
    agreement_with_fp32: float | None | Unset = UNSET
    size_bytes: int | None | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        accuracy_change: float | None | Unset
        if isinstance(self.accuracy_change, Unset):
            accuracy_change = UNSET
        else:
            accuracy_change = self.accuracy_change

        agreement_with_fp32: float | None | Unset
        if isinstance(self.agreement_with_fp32, Unset):
            agreement_with_fp32 = UNSET
        else:
            agreement_with_fp32 = self.agreement_with_fp32

        size_bytes: int | None | Unset
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes

        test_accuracy: float | None | Unset
        if isinstance(self.test_accuracy, Unset):
            test_accuracy = UNSET
        else:
            test_accuracy = self.test_accuracy


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if accuracy_change is not UNSET:
            field_dict["accuracy_change"] = accuracy_change
        if agreement_with_fp32 is not UNSET:
            field_dict["agreement_with_fp32"] = agreement_with_fp32
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_accuracy_change(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        accuracy_change = _parse_accuracy_change(d.pop("accuracy_change", UNSET))


        def _parse_agreement_with_fp32(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        agreement_with_fp32 = _parse_agreement_with_fp32(d.pop("agreement_with_fp32", UNSET))


        def _parse_size_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))


        def _parse_test_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        test_accuracy = _parse_test_accuracy(d.pop("test_accuracy", UNSET))


        post_training_answers = cls(
            accuracy_change=accuracy_change,
            agreement_with_fp32=agreement_with_fp32,
            size_bytes=size_bytes,
            test_accuracy=test_accuracy,
        )


        post_training_answers.additional_properties = d
        return post_training_answers

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
