from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="SweepRow")



@_attrs_define
class SweepRow:
    """ One sweep member or one candidate of the temperature search; its swept parameters are further keys.

        Attributes:
            name (str):
            status (str): A member's run status, or a temperature-search candidate's: continues, dropped or chosen.
            error (None | str | Unset):
            test_accuracy (float | None | Unset):
            test_errors (int | None | Unset):
            val_accuracy (float | None | Unset):
            val_cross_entropy (float | None | Unset):
     """

    name: str
    status: str
    error: None | str | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    test_errors: int | None | Unset = UNSET
    val_accuracy: float | None | Unset = UNSET
    val_cross_entropy: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        status = self.status

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        test_accuracy: float | None | Unset
        if isinstance(self.test_accuracy, Unset):
            test_accuracy = UNSET
        else:
            test_accuracy = self.test_accuracy

        test_errors: int | None | Unset
        if isinstance(self.test_errors, Unset):
            test_errors = UNSET
        else:
            test_errors = self.test_errors

        val_accuracy: float | None | Unset
        if isinstance(self.val_accuracy, Unset):
            val_accuracy = UNSET
        else:
            val_accuracy = self.val_accuracy

        val_cross_entropy: float | None | Unset
        if isinstance(self.val_cross_entropy, Unset):
            val_cross_entropy = UNSET
        else:
            val_cross_entropy = self.val_cross_entropy


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "status": status,
        })
        if error is not UNSET:
            field_dict["error"] = error
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy
        if test_errors is not UNSET:
            field_dict["test_errors"] = test_errors
        if val_accuracy is not UNSET:
            field_dict["val_accuracy"] = val_accuracy
        if val_cross_entropy is not UNSET:
            field_dict["val_cross_entropy"] = val_cross_entropy

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        status = d.pop("status")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        def _parse_test_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        test_accuracy = _parse_test_accuracy(d.pop("test_accuracy", UNSET))


        def _parse_test_errors(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        test_errors = _parse_test_errors(d.pop("test_errors", UNSET))


        def _parse_val_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        val_accuracy = _parse_val_accuracy(d.pop("val_accuracy", UNSET))


        def _parse_val_cross_entropy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        val_cross_entropy = _parse_val_cross_entropy(d.pop("val_cross_entropy", UNSET))


        sweep_row = cls(
            name=name,
            status=status,
            error=error,
            test_accuracy=test_accuracy,
            test_errors=test_errors,
            val_accuracy=val_accuracy,
            val_cross_entropy=val_cross_entropy,
        )


        sweep_row.additional_properties = d
        return sweep_row

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
