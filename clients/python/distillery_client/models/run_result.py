from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.run_result_per_class_errors_type_0 import RunResultPerClassErrorsType0





T = TypeVar("T", bound="RunResult")



@_attrs_define
class RunResult:
    """ A trained student: its test report and how its training went.

        Attributes:
            best_epoch (int | None | Unset): The epoch whose weights were kept (best on validation).
            bias_correction (float | None | Unset): The raise added to the omitted classes' logits.
            ece (float | None | Unset): Expected calibration error.
            epochs_run (int | None | Unset):
            omitted_class_errors (int | None | Unset): Test errors on the classes left out of the transfer set
                (omit_classes).
            per_class_errors (None | RunResultPerClassErrorsType0 | Unset): Errors by true class (index as text).
            samples (int | None | Unset):
            stopped_early (bool | None | Unset):
            teacher_agreement (float | None | Unset): Share of test samples where it agrees with the teacher.
            temperature (float | None | Unset): The temperature temperature "auto" chose.
            test_accuracy (float | None | Unset):
            test_errors (int | None | Unset):
            val_accuracy (float | None | Unset):
            val_cross_entropy (float | None | Unset):
            val_teacher_agreement (float | None | Unset): At the best epoch: the share of validation samples where the
                student and the teacher agree.
     """

    best_epoch: int | None | Unset = UNSET
    bias_correction: float | None | Unset = UNSET
    ece: float | None | Unset = UNSET
    epochs_run: int | None | Unset = UNSET
    omitted_class_errors: int | None | Unset = UNSET
    per_class_errors: None | RunResultPerClassErrorsType0 | Unset = UNSET
    samples: int | None | Unset = UNSET
    stopped_early: bool | None | Unset = UNSET
    teacher_agreement: float | None | Unset = UNSET
    temperature: float | None | Unset = UNSET
    test_accuracy: float | None | Unset = UNSET
    test_errors: int | None | Unset = UNSET
    val_accuracy: float | None | Unset = UNSET
    val_cross_entropy: float | None | Unset = UNSET
    val_teacher_agreement: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_result_per_class_errors_type_0 import RunResultPerClassErrorsType0 # noqa: PLC0415
        best_epoch: int | None | Unset
        if isinstance(self.best_epoch, Unset):
            best_epoch = UNSET
        else:
            best_epoch = self.best_epoch

        bias_correction: float | None | Unset
        if isinstance(self.bias_correction, Unset):
            bias_correction = UNSET
        else:
            bias_correction = self.bias_correction

        ece: float | None | Unset
        if isinstance(self.ece, Unset):
            ece = UNSET
        else:
            ece = self.ece

        epochs_run: int | None | Unset
        if isinstance(self.epochs_run, Unset):
            epochs_run = UNSET
        else:
            epochs_run = self.epochs_run

        omitted_class_errors: int | None | Unset
        if isinstance(self.omitted_class_errors, Unset):
            omitted_class_errors = UNSET
        else:
            omitted_class_errors = self.omitted_class_errors

        per_class_errors: dict[str, Any] | None | Unset
        if isinstance(self.per_class_errors, Unset):
            per_class_errors = UNSET
        elif isinstance(self.per_class_errors, RunResultPerClassErrorsType0):
            per_class_errors = self.per_class_errors.to_dict()
        else:
            per_class_errors = self.per_class_errors

        samples: int | None | Unset
        if isinstance(self.samples, Unset):
            samples = UNSET
        else:
            samples = self.samples

        stopped_early: bool | None | Unset
        if isinstance(self.stopped_early, Unset):
            stopped_early = UNSET
        else:
            stopped_early = self.stopped_early

        teacher_agreement: float | None | Unset
        if isinstance(self.teacher_agreement, Unset):
            teacher_agreement = UNSET
        else:
            teacher_agreement = self.teacher_agreement

        temperature: float | None | Unset
        if isinstance(self.temperature, Unset):
            temperature = UNSET
        else:
            temperature = self.temperature

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

        val_teacher_agreement: float | None | Unset
        if isinstance(self.val_teacher_agreement, Unset):
            val_teacher_agreement = UNSET
        else:
            val_teacher_agreement = self.val_teacher_agreement


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if best_epoch is not UNSET:
            field_dict["best_epoch"] = best_epoch
        if bias_correction is not UNSET:
            field_dict["bias_correction"] = bias_correction
        if ece is not UNSET:
            field_dict["ece"] = ece
        if epochs_run is not UNSET:
            field_dict["epochs_run"] = epochs_run
        if omitted_class_errors is not UNSET:
            field_dict["omitted_class_errors"] = omitted_class_errors
        if per_class_errors is not UNSET:
            field_dict["per_class_errors"] = per_class_errors
        if samples is not UNSET:
            field_dict["samples"] = samples
        if stopped_early is not UNSET:
            field_dict["stopped_early"] = stopped_early
        if teacher_agreement is not UNSET:
            field_dict["teacher_agreement"] = teacher_agreement
        if temperature is not UNSET:
            field_dict["temperature"] = temperature
        if test_accuracy is not UNSET:
            field_dict["test_accuracy"] = test_accuracy
        if test_errors is not UNSET:
            field_dict["test_errors"] = test_errors
        if val_accuracy is not UNSET:
            field_dict["val_accuracy"] = val_accuracy
        if val_cross_entropy is not UNSET:
            field_dict["val_cross_entropy"] = val_cross_entropy
        if val_teacher_agreement is not UNSET:
            field_dict["val_teacher_agreement"] = val_teacher_agreement

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_result_per_class_errors_type_0 import RunResultPerClassErrorsType0 # noqa: PLC0415
        d = dict(src_dict)
        def _parse_best_epoch(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        best_epoch = _parse_best_epoch(d.pop("best_epoch", UNSET))


        def _parse_bias_correction(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        bias_correction = _parse_bias_correction(d.pop("bias_correction", UNSET))


        def _parse_ece(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        ece = _parse_ece(d.pop("ece", UNSET))


        def _parse_epochs_run(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        epochs_run = _parse_epochs_run(d.pop("epochs_run", UNSET))


        def _parse_omitted_class_errors(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        omitted_class_errors = _parse_omitted_class_errors(d.pop("omitted_class_errors", UNSET))


        def _parse_per_class_errors(data: object) -> None | RunResultPerClassErrorsType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                per_class_errors_type_0 = RunResultPerClassErrorsType0.from_dict(data)



                return per_class_errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunResultPerClassErrorsType0 | Unset, data)

        per_class_errors = _parse_per_class_errors(d.pop("per_class_errors", UNSET))


        def _parse_samples(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        samples = _parse_samples(d.pop("samples", UNSET))


        def _parse_stopped_early(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        stopped_early = _parse_stopped_early(d.pop("stopped_early", UNSET))


        def _parse_teacher_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        teacher_agreement = _parse_teacher_agreement(d.pop("teacher_agreement", UNSET))


        def _parse_temperature(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        temperature = _parse_temperature(d.pop("temperature", UNSET))


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


        def _parse_val_teacher_agreement(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        val_teacher_agreement = _parse_val_teacher_agreement(d.pop("val_teacher_agreement", UNSET))


        run_result = cls(
            best_epoch=best_epoch,
            bias_correction=bias_correction,
            ece=ece,
            epochs_run=epochs_run,
            omitted_class_errors=omitted_class_errors,
            per_class_errors=per_class_errors,
            samples=samples,
            stopped_early=stopped_early,
            teacher_agreement=teacher_agreement,
            temperature=temperature,
            test_accuracy=test_accuracy,
            test_errors=test_errors,
            val_accuracy=val_accuracy,
            val_cross_entropy=val_cross_entropy,
            val_teacher_agreement=val_teacher_agreement,
        )


        run_result.additional_properties = d
        return run_result

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
