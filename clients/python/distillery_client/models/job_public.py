from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.job_public_budget_type_0 import JobPublicBudgetType0
  from ..models.job_public_hyperparameters import JobPublicHyperparameters
  from ..models.job_public_student import JobPublicStudent
  from ..models.job_public_sweep_type_0 import JobPublicSweepType0
  from ..models.job_result import JobResult
  from ..models.progress import Progress





T = TypeVar("T", bound="JobPublic")



@_attrs_define
class JobPublic:
    """ 
        Attributes:
            baseline (bool):
            bias_correction (bool):
            cancel_requested (bool):
            created_at (datetime.datetime):
            error (None | str):
            export_formats (list[str]):
            finished_at (datetime.datetime | None):
            hyperparameters (JobPublicHyperparameters):
            id (str):
            omit_classes (list[int]):
            progress (Progress):
            result (JobResult | None):
            started_at (datetime.datetime | None):
            status (JobStatus):
            student (JobPublicStudent):
            student_formats (list[str]): Formats the student can be downloaded in.
            student_init_weights (None | str):
            sweep (JobPublicSweepType0 | None):
            teacher_ids (list[str]):
            transfer_set_id (str):
            validation_transfer_set_id (None | str):
            budget (JobPublicBudgetType0 | None | Unset):
            quantization_aware (bool | Unset):  Default: False.
            quantization_aware_epochs (int | None | Unset): Present when quantization_aware is on.
            webhook_secret (None | str | Unset): Verifies the job's webhooks; shown only in the response that created the
                job (and to a retry of that request with the same Idempotency-Key).
            webhook_url (None | str | Unset):
     """

    baseline: bool
    bias_correction: bool
    cancel_requested: bool
    created_at: datetime.datetime
    error: None | str
    export_formats: list[str]
    finished_at: datetime.datetime | None
    hyperparameters: JobPublicHyperparameters
    id: str
    omit_classes: list[int]
    progress: Progress
    result: JobResult | None
    started_at: datetime.datetime | None
    status: JobStatus
    student: JobPublicStudent
    student_formats: list[str]
    student_init_weights: None | str
    sweep: JobPublicSweepType0 | None
    teacher_ids: list[str]
    transfer_set_id: str
    validation_transfer_set_id: None | str
    budget: JobPublicBudgetType0 | None | Unset = UNSET
    quantization_aware: bool | Unset = False
    quantization_aware_epochs: int | None | Unset = UNSET
    webhook_secret: None | str | Unset = UNSET
    webhook_url: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.job_public_budget_type_0 import JobPublicBudgetType0 # noqa: PLC0415
        from ..models.job_public_hyperparameters import JobPublicHyperparameters # noqa: PLC0415
        from ..models.job_public_student import JobPublicStudent # noqa: PLC0415
        from ..models.job_public_sweep_type_0 import JobPublicSweepType0 # noqa: PLC0415
        from ..models.job_result import JobResult # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        baseline = self.baseline

        bias_correction = self.bias_correction

        cancel_requested = self.cancel_requested

        created_at = self.created_at.isoformat()

        error: None | str
        error = self.error

        export_formats = self.export_formats



        finished_at: None | str
        if isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        hyperparameters = self.hyperparameters.to_dict()

        id = self.id

        omit_classes = self.omit_classes



        progress = self.progress.to_dict()

        result: dict[str, Any] | None
        if isinstance(self.result, JobResult):
            result = self.result.to_dict()
        else:
            result = self.result

        started_at: None | str
        if isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        status = self.status.value

        student = self.student.to_dict()

        student_formats = self.student_formats



        student_init_weights: None | str
        student_init_weights = self.student_init_weights

        sweep: dict[str, Any] | None
        if isinstance(self.sweep, JobPublicSweepType0):
            sweep = self.sweep.to_dict()
        else:
            sweep = self.sweep

        teacher_ids = self.teacher_ids



        transfer_set_id = self.transfer_set_id

        validation_transfer_set_id: None | str
        validation_transfer_set_id = self.validation_transfer_set_id

        budget: dict[str, Any] | None | Unset
        if isinstance(self.budget, Unset):
            budget = UNSET
        elif isinstance(self.budget, JobPublicBudgetType0):
            budget = self.budget.to_dict()
        else:
            budget = self.budget

        quantization_aware = self.quantization_aware

        quantization_aware_epochs: int | None | Unset
        if isinstance(self.quantization_aware_epochs, Unset):
            quantization_aware_epochs = UNSET
        else:
            quantization_aware_epochs = self.quantization_aware_epochs

        webhook_secret: None | str | Unset
        if isinstance(self.webhook_secret, Unset):
            webhook_secret = UNSET
        else:
            webhook_secret = self.webhook_secret

        webhook_url: None | str | Unset
        if isinstance(self.webhook_url, Unset):
            webhook_url = UNSET
        else:
            webhook_url = self.webhook_url


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "baseline": baseline,
            "bias_correction": bias_correction,
            "cancel_requested": cancel_requested,
            "created_at": created_at,
            "error": error,
            "export_formats": export_formats,
            "finished_at": finished_at,
            "hyperparameters": hyperparameters,
            "id": id,
            "omit_classes": omit_classes,
            "progress": progress,
            "result": result,
            "started_at": started_at,
            "status": status,
            "student": student,
            "student_formats": student_formats,
            "student_init_weights": student_init_weights,
            "sweep": sweep,
            "teacher_ids": teacher_ids,
            "transfer_set_id": transfer_set_id,
            "validation_transfer_set_id": validation_transfer_set_id,
        })
        if budget is not UNSET:
            field_dict["budget"] = budget
        if quantization_aware is not UNSET:
            field_dict["quantization_aware"] = quantization_aware
        if quantization_aware_epochs is not UNSET:
            field_dict["quantization_aware_epochs"] = quantization_aware_epochs
        if webhook_secret is not UNSET:
            field_dict["webhook_secret"] = webhook_secret
        if webhook_url is not UNSET:
            field_dict["webhook_url"] = webhook_url

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_public_budget_type_0 import JobPublicBudgetType0 # noqa: PLC0415
        from ..models.job_public_hyperparameters import JobPublicHyperparameters # noqa: PLC0415
        from ..models.job_public_student import JobPublicStudent # noqa: PLC0415
        from ..models.job_public_sweep_type_0 import JobPublicSweepType0 # noqa: PLC0415
        from ..models.job_result import JobResult # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        d = dict(src_dict)
        baseline = d.pop("baseline")

        bias_correction = d.pop("bias_correction")

        cancel_requested = d.pop("cancel_requested")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))


        export_formats = cast(list[str], d.pop("export_formats"))


        def _parse_finished_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)



                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))


        hyperparameters = JobPublicHyperparameters.from_dict(d.pop("hyperparameters"))




        id = d.pop("id")

        omit_classes = cast(list[int], d.pop("omit_classes"))


        progress = Progress.from_dict(d.pop("progress"))




        def _parse_result(data: object) -> JobResult | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = JobResult.from_dict(data)



                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobResult | None, data)

        result = _parse_result(d.pop("result"))


        def _parse_started_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)



                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        started_at = _parse_started_at(d.pop("started_at"))


        status = JobStatus(d.pop("status"))




        student = JobPublicStudent.from_dict(d.pop("student"))




        student_formats = cast(list[str], d.pop("student_formats"))


        def _parse_student_init_weights(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        student_init_weights = _parse_student_init_weights(d.pop("student_init_weights"))


        def _parse_sweep(data: object) -> JobPublicSweepType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sweep_type_0 = JobPublicSweepType0.from_dict(data)



                return sweep_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobPublicSweepType0 | None, data)

        sweep = _parse_sweep(d.pop("sweep"))


        teacher_ids = cast(list[str], d.pop("teacher_ids"))


        transfer_set_id = d.pop("transfer_set_id")

        def _parse_validation_transfer_set_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        validation_transfer_set_id = _parse_validation_transfer_set_id(d.pop("validation_transfer_set_id"))


        def _parse_budget(data: object) -> JobPublicBudgetType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                budget_type_0 = JobPublicBudgetType0.from_dict(data)



                return budget_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobPublicBudgetType0 | None | Unset, data)

        budget = _parse_budget(d.pop("budget", UNSET))


        quantization_aware = d.pop("quantization_aware", UNSET)

        def _parse_quantization_aware_epochs(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        quantization_aware_epochs = _parse_quantization_aware_epochs(d.pop("quantization_aware_epochs", UNSET))


        def _parse_webhook_secret(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webhook_secret = _parse_webhook_secret(d.pop("webhook_secret", UNSET))


        def _parse_webhook_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        webhook_url = _parse_webhook_url(d.pop("webhook_url", UNSET))


        job_public = cls(
            baseline=baseline,
            bias_correction=bias_correction,
            cancel_requested=cancel_requested,
            created_at=created_at,
            error=error,
            export_formats=export_formats,
            finished_at=finished_at,
            hyperparameters=hyperparameters,
            id=id,
            omit_classes=omit_classes,
            progress=progress,
            result=result,
            started_at=started_at,
            status=status,
            student=student,
            student_formats=student_formats,
            student_init_weights=student_init_weights,
            sweep=sweep,
            teacher_ids=teacher_ids,
            transfer_set_id=transfer_set_id,
            validation_transfer_set_id=validation_transfer_set_id,
            budget=budget,
            quantization_aware=quantization_aware,
            quantization_aware_epochs=quantization_aware_epochs,
            webhook_secret=webhook_secret,
            webhook_url=webhook_url,
        )


        job_public.additional_properties = d
        return job_public

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
