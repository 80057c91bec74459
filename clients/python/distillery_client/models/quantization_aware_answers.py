from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="QuantizationAwareAnswers")



@_attrs_define
class QuantizationAwareAnswers:
    """ The onnx_int8 download: the student fine-tuned under fake quantization, then quantized the same way.

        Attributes:
            accuracy_change (float | None | Unset): test_accuracy minus the fp32 student's.
            agreement_with_fp32 (float | None | Unset): Share of test samples where this INT8 file and the fp32 student
                predict the same class.
            best_epoch (int | None | Unset): The fine-tune epoch whose weights were kept (best on validation, measured fake-
                quantized).
            epochs (int | None | Unset): Fine-tune epochs run.
            learning_rate (float | None | Unset): The fine-tune's rate: a tenth of the job's.
            test_accuracy (float | None | Unset):
     """

    accuracy_change: float | None | Unset = UNSET
    agreement_with_fp32: float | None | Unset = UNSET
    best_epoch: int | None | Unset = UNSET
    epochs: int | None | Unset = UNSET
    learning_rate: float | None | Unset = UNSET
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

        best_epoch: int | None | Unset
        if isinstance(self.best_epoch, Unset):
            best_epoch = UNSET
        else:
            best_epoch = self.best_epoch

        epochs: int | None | Unset
        if isinstance(self.epochs, Unset):
            epochs = UNSET
        else:
            epochs = self.epochs

        learning_rate: float | None | Unset
        if isinstance(self.learning_rate, Unset):
            learning_rate = UNSET
        else:
            learning_rate = self.learning_rate

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
        if best_epoch is not UNSET:
            field_dict["best_epoch"] = best_epoch
        if epochs is not UNSET:
            field_dict["epochs"] = epochs
        if learning_rate is not UNSET:
            field_dict["learning_rate"] = learning_rate
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


        def _parse_best_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        best_epoch = _parse_best_epoch(d.pop("best_epoch", UNSET))


        def _parse_epochs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        epochs = _parse_epochs(d.pop("epochs", UNSET))


        def _parse_learning_rate(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        learning_rate = _parse_learning_rate(d.pop("learning_rate", UNSET))


        def _parse_test_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        test_accuracy = _parse_test_accuracy(d.pop("test_accuracy", UNSET))


        quantization_aware_answers = cls(
            accuracy_change=accuracy_change,
            agreement_with_fp32=agreement_with_fp32,
            best_epoch=best_epoch,
            epochs=epochs,
            learning_rate=learning_rate,
            test_accuracy=test_accuracy,
        )


        quantization_aware_answers.additional_properties = d
        return quantization_aware_answers

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
