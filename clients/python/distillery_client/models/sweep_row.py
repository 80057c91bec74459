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
            cost_error (None | str | Unset): Why the member could not be measured.
            error (None | str | Unset):
            latency_ms_p50 (float | None | Unset): Median milliseconds of one call at batch 1.
            latency_ms_p90 (float | None | Unset): 90th percentile milliseconds of one call at batch 1.
            parameters (int | None | Unset): The student's trainable weights.
            size_bytes (int | None | Unset): Bytes of the student's fp32 ONNX file.
            student (None | str | Unset): The member's student, as its name shows it.
            test_accuracy (float | None | Unset):
            test_errors (int | None | Unset):
            val_accuracy (float | None | Unset):
            val_cross_entropy (float | None | Unset):
            within_budget (bool | None | Unset): The job has a budget: whether this member meets it.
     """

    name: str
    status: str
    cost_error: None | str | Unset = UNSET
    error: None | str | Unset = UNSET
    latency_ms_p50: float | None | Unset = UNSET
    latency_ms_p90: float | None | Unset = UNSET
    parameters: int | None | Unset = UNSET
    size_bytes: int | None | Unset = UNSET
    student: None | str | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    test_errors: int | None | Unset = UNSET
    val_accuracy: float | None | Unset = UNSET
    val_cross_entropy: float | None | Unset = UNSET
    within_budget: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        name = self.name

        status = self.status

        cost_error: None | str | Unset
        if isinstance(self.cost_error, Unset):
            cost_error = UNSET
        else:
            cost_error = self.cost_error

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        latency_ms_p50: float | None | Unset
        if isinstance(self.latency_ms_p50, Unset):
            latency_ms_p50 = UNSET
        else:
            latency_ms_p50 = self.latency_ms_p50

        latency_ms_p90: float | None | Unset
        if isinstance(self.latency_ms_p90, Unset):
            latency_ms_p90 = UNSET
        else:
            latency_ms_p90 = self.latency_ms_p90

        parameters: int | None | Unset
        if isinstance(self.parameters, Unset):
            parameters = UNSET
        else:
            parameters = self.parameters

        size_bytes: int | None | Unset
        if isinstance(self.size_bytes, Unset):
            size_bytes = UNSET
        else:
            size_bytes = self.size_bytes

        student: None | str | Unset
        if isinstance(self.student, Unset):
            student = UNSET
        else:
            student = self.student

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

        within_budget: bool | None | Unset
        if isinstance(self.within_budget, Unset):
            within_budget = UNSET
        else:
            within_budget = self.within_budget


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "name": name,
            "status": status,
        })
        if cost_error is not UNSET:
            field_dict["cost_error"] = cost_error
        if error is not UNSET:
            field_dict["error"] = error
        if latency_ms_p50 is not UNSET:
            field_dict["latency_ms_p50"] = latency_ms_p50
        if latency_ms_p90 is not UNSET:
            field_dict["latency_ms_p90"] = latency_ms_p90
        if parameters is not UNSET:
            field_dict["parameters"] = parameters
        if size_bytes is not UNSET:
            field_dict["size_bytes"] = size_bytes
        if student is not UNSET:
            field_dict["student"] = student
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy
        if test_errors is not UNSET:
            field_dict["test_errors"] = test_errors
        if val_accuracy is not UNSET:
            field_dict["val_accuracy"] = val_accuracy
        if val_cross_entropy is not UNSET:
            field_dict["val_cross_entropy"] = val_cross_entropy
        if within_budget is not UNSET:
            field_dict["within_budget"] = within_budget

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        status = d.pop("status")

        def _parse_cost_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cost_error = _parse_cost_error(d.pop("cost_error", UNSET))


        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        def _parse_latency_ms_p50(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        latency_ms_p50 = _parse_latency_ms_p50(d.pop("latency_ms_p50", UNSET))


        def _parse_latency_ms_p90(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        latency_ms_p90 = _parse_latency_ms_p90(d.pop("latency_ms_p90", UNSET))


        def _parse_parameters(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        parameters = _parse_parameters(d.pop("parameters", UNSET))


        def _parse_size_bytes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size_bytes = _parse_size_bytes(d.pop("size_bytes", UNSET))


        def _parse_student(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        student = _parse_student(d.pop("student", UNSET))


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


        def _parse_within_budget(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        within_budget = _parse_within_budget(d.pop("within_budget", UNSET))


        sweep_row = cls(
            name=name,
            status=status,
            cost_error=cost_error,
            error=error,
            latency_ms_p50=latency_ms_p50,
            latency_ms_p90=latency_ms_p90,
            parameters=parameters,
            size_bytes=size_bytes,
            student=student,
            test_accuracy=test_accuracy,
            test_errors=test_errors,
            val_accuracy=val_accuracy,
            val_cross_entropy=val_cross_entropy,
            within_budget=within_budget,
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
