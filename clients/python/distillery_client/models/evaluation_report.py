from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.evaluation_report_per_class_errors_type_0 import EvaluationReportPerClassErrorsType0





T = TypeVar("T", bound="EvaluationReport")



@_attrs_define
class EvaluationReport:
    """ How a network did on the held-out test split (absent where the set has no labels).

        Attributes:
            samples (int):
            ece (float | None | Unset): Expected calibration error.
            omitted_class_errors (int | None | Unset): Test errors on the classes left out of the transfer set
                (omit_classes).
            per_class_errors (EvaluationReportPerClassErrorsType0 | None | Unset): Errors by true class (index as text).
            teacher_agreement (float | None | Unset): Share of test samples where it agrees with the teacher.
            test_accuracy (float | None | Unset):
            test_errors (int | None | Unset):
     """

    samples: int
    ece: float | None | Unset = UNSET
    omitted_class_errors: int | None | Unset = UNSET
    per_class_errors: EvaluationReportPerClassErrorsType0 | None | Unset = UNSET
    teacher_agreement: float | None | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    test_errors: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.evaluation_report_per_class_errors_type_0 import EvaluationReportPerClassErrorsType0 # noqa: PLC0415
        samples = self.samples

        ece: float | None | Unset
        if isinstance(self.ece, Unset):
            ece = UNSET
        else:
            ece = self.ece

        omitted_class_errors: int | None | Unset
        if isinstance(self.omitted_class_errors, Unset):
            omitted_class_errors = UNSET
        else:
            omitted_class_errors = self.omitted_class_errors

        per_class_errors: dict[str, Any] | None | Unset
        if isinstance(self.per_class_errors, Unset):
            per_class_errors = UNSET
        elif isinstance(self.per_class_errors, EvaluationReportPerClassErrorsType0):
            per_class_errors = self.per_class_errors.to_dict()
        else:
            per_class_errors = self.per_class_errors

        teacher_agreement: float | None | Unset
        if isinstance(self.teacher_agreement, Unset):
            teacher_agreement = UNSET
        else:
            teacher_agreement = self.teacher_agreement

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


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "samples": samples,
        })
        if ece is not UNSET:
            field_dict["ece"] = ece
        if omitted_class_errors is not UNSET:
            field_dict["omitted_class_errors"] = omitted_class_errors
        if per_class_errors is not UNSET:
            field_dict["per_class_errors"] = per_class_errors
        if teacher_agreement is not UNSET:
            field_dict["teacher_agreement"] = teacher_agreement
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy
        if test_errors is not UNSET:
            field_dict["test_errors"] = test_errors

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.evaluation_report_per_class_errors_type_0 import EvaluationReportPerClassErrorsType0 # noqa: PLC0415
        d = dict(src_dict)
        samples = d.pop("samples")

        def _parse_ece(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ece = _parse_ece(d.pop("ece", UNSET))


        def _parse_omitted_class_errors(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        omitted_class_errors = _parse_omitted_class_errors(d.pop("omitted_class_errors", UNSET))


        def _parse_per_class_errors(data: object) -> EvaluationReportPerClassErrorsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                per_class_errors_type_0 = EvaluationReportPerClassErrorsType0.from_dict(data)



                return per_class_errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EvaluationReportPerClassErrorsType0 | None | Unset, data)

        per_class_errors = _parse_per_class_errors(d.pop("per_class_errors", UNSET))


        def _parse_teacher_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        teacher_agreement = _parse_teacher_agreement(d.pop("teacher_agreement", UNSET))


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


        evaluation_report = cls(
            samples=samples,
            ece=ece,
            omitted_class_errors=omitted_class_errors,
            per_class_errors=per_class_errors,
            teacher_agreement=teacher_agreement,
            test_accuracy=test_accuracy,
            test_errors=test_errors,
        )


        evaluation_report.additional_properties = d
        return evaluation_report

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
