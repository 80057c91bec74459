from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.budget_outcome import BudgetOutcome
  from ..models.deployment_report import DeploymentReport
  from ..models.evaluation_report import EvaluationReport
  from ..models.job_result_exports_type_0 import JobResultExportsType0
  from ..models.run_result import RunResult
  from ..models.sweep_row import SweepRow
  from ..models.temperature_search import TemperatureSearch





T = TypeVar("T", bound="JobResult")



@_attrs_define
class JobResult:
    """ 
        Attributes:
            baseline (None | RunResult | Unset): The same student trained on labels alone.
            best_member (None | str | Unset): The sweep member (or searched temperature) kept.
            best_member_margin (float | None | Unset): Validation cross-entropy of the sweep's runner-up minus the best
                member's (null under a budget: result.budget says why its winner won).
            budget (BudgetOutcome | None | Unset): A job with a budget: which member it chose, and why.
            class_names (list[str] | None | Unset):
            deployment (DeploymentReport | None | Unset): What the student buys: size and speed of teacher and students,
                measured the same way on the worker.
            exports (JobResultExportsType0 | None | Unset):
            student (None | RunResult | Unset): The distilled student (a sweep's: the best member's).
            sweep (list[SweepRow] | None | Unset):
            teacher (EvaluationReport | None | Unset):
            temperature_search (None | TemperatureSearch | Unset):
     """

    baseline: None | RunResult | Unset = UNSET
    best_member: None | str | Unset = UNSET
    best_member_margin: float | None | Unset = UNSET
    budget: BudgetOutcome | None | Unset = UNSET
    class_names: list[str] | None | Unset = UNSET
    deployment: DeploymentReport | None | Unset = UNSET
    exports: JobResultExportsType0 | None | Unset = UNSET
    student: None | RunResult | Unset = UNSET
    sweep: list[SweepRow] | None | Unset = UNSET
    teacher: EvaluationReport | None | Unset = UNSET
    temperature_search: None | TemperatureSearch | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.budget_outcome import BudgetOutcome # noqa: PLC0415
        from ..models.deployment_report import DeploymentReport # noqa: PLC0415
        from ..models.evaluation_report import EvaluationReport # noqa: PLC0415
        from ..models.job_result_exports_type_0 import JobResultExportsType0 # noqa: PLC0415
        from ..models.run_result import RunResult # noqa: PLC0415
        from ..models.sweep_row import SweepRow # noqa: PLC0415
        from ..models.temperature_search import TemperatureSearch # noqa: PLC0415
        baseline: dict[str, Any] | None | Unset
        if isinstance(self.baseline, Unset):
            baseline = UNSET
        elif isinstance(self.baseline, RunResult):
            baseline = self.baseline.to_dict()
        else:
            baseline = self.baseline

        best_member: None | str | Unset
        if isinstance(self.best_member, Unset):
            best_member = UNSET
        else:
            best_member = self.best_member

        best_member_margin: float | None | Unset
        if isinstance(self.best_member_margin, Unset):
            best_member_margin = UNSET
        else:
            best_member_margin = self.best_member_margin

        budget: dict[str, Any] | None | Unset
        if isinstance(self.budget, Unset):
            budget = UNSET
        elif isinstance(self.budget, BudgetOutcome):
            budget = self.budget.to_dict()
        else:
            budget = self.budget

        class_names: list[str] | None | Unset
        if isinstance(self.class_names, Unset):
            class_names = UNSET
        elif isinstance(self.class_names, list):
            class_names = self.class_names


        else:
            class_names = self.class_names

        deployment: dict[str, Any] | None | Unset
        if isinstance(self.deployment, Unset):
            deployment = UNSET
        elif isinstance(self.deployment, DeploymentReport):
            deployment = self.deployment.to_dict()
        else:
            deployment = self.deployment

        exports: dict[str, Any] | None | Unset
        if isinstance(self.exports, Unset):
            exports = UNSET
        elif isinstance(self.exports, JobResultExportsType0):
            exports = self.exports.to_dict()
        else:
            exports = self.exports

        student: dict[str, Any] | None | Unset
        if isinstance(self.student, Unset):
            student = UNSET
        elif isinstance(self.student, RunResult):
            student = self.student.to_dict()
        else:
            student = self.student

        sweep: list[dict[str, Any]] | None | Unset
        if isinstance(self.sweep, Unset):
            sweep = UNSET
        elif isinstance(self.sweep, list):
            sweep = []
            for sweep_type_0_item_data in self.sweep:
                sweep_type_0_item = sweep_type_0_item_data.to_dict()
                sweep.append(sweep_type_0_item)


        else:
            sweep = self.sweep

        teacher: dict[str, Any] | None | Unset
        if isinstance(self.teacher, Unset):
            teacher = UNSET
        elif isinstance(self.teacher, EvaluationReport):
            teacher = self.teacher.to_dict()
        else:
            teacher = self.teacher

        temperature_search: dict[str, Any] | None | Unset
        if isinstance(self.temperature_search, Unset):
            temperature_search = UNSET
        elif isinstance(self.temperature_search, TemperatureSearch):
            temperature_search = self.temperature_search.to_dict()
        else:
            temperature_search = self.temperature_search


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if baseline is not UNSET:
            field_dict["baseline"] = baseline
        if best_member is not UNSET:
            field_dict["best_member"] = best_member
        if best_member_margin is not UNSET:
            field_dict["best_member_margin"] = best_member_margin
        if budget is not UNSET:
            field_dict["budget"] = budget
        if class_names is not UNSET:
            field_dict["class_names"] = class_names
        if deployment is not UNSET:
            field_dict["deployment"] = deployment
        if exports is not UNSET:
            field_dict["exports"] = exports
        if student is not UNSET:
            field_dict["student"] = student
        if sweep is not UNSET:
            field_dict["sweep"] = sweep
        if teacher is not UNSET:
            field_dict["teacher"] = teacher
        if temperature_search is not UNSET:
            field_dict["temperature_search"] = temperature_search

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget_outcome import BudgetOutcome # noqa: PLC0415
        from ..models.deployment_report import DeploymentReport # noqa: PLC0415
        from ..models.evaluation_report import EvaluationReport # noqa: PLC0415
        from ..models.job_result_exports_type_0 import JobResultExportsType0 # noqa: PLC0415
        from ..models.run_result import RunResult # noqa: PLC0415
        from ..models.sweep_row import SweepRow # noqa: PLC0415
        from ..models.temperature_search import TemperatureSearch # noqa: PLC0415
        d = dict(src_dict)
        def _parse_baseline(data: object) -> None | RunResult | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                baseline_type_0 = RunResult.from_dict(data)



                return baseline_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunResult | Unset, data)

        baseline = _parse_baseline(d.pop("baseline", UNSET))


        def _parse_best_member(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        best_member = _parse_best_member(d.pop("best_member", UNSET))


        def _parse_best_member_margin(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        best_member_margin = _parse_best_member_margin(d.pop("best_member_margin", UNSET))


        def _parse_budget(data: object) -> BudgetOutcome | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                budget_type_0 = BudgetOutcome.from_dict(data)



                return budget_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(BudgetOutcome | None | Unset, data)

        budget = _parse_budget(d.pop("budget", UNSET))


        def _parse_class_names(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                class_names_type_0 = cast(list[str], data)

                return class_names_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        class_names = _parse_class_names(d.pop("class_names", UNSET))


        def _parse_deployment(data: object) -> DeploymentReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                deployment_type_0 = DeploymentReport.from_dict(data)



                return deployment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DeploymentReport | None | Unset, data)

        deployment = _parse_deployment(d.pop("deployment", UNSET))


        def _parse_exports(data: object) -> JobResultExportsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                exports_type_0 = JobResultExportsType0.from_dict(data)



                return exports_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(JobResultExportsType0 | None | Unset, data)

        exports = _parse_exports(d.pop("exports", UNSET))


        def _parse_student(data: object) -> None | RunResult | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                student_type_0 = RunResult.from_dict(data)



                return student_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunResult | Unset, data)

        student = _parse_student(d.pop("student", UNSET))


        def _parse_sweep(data: object) -> list[SweepRow] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                sweep_type_0 = []
                _sweep_type_0 = data
                for sweep_type_0_item_data in (_sweep_type_0):
                    sweep_type_0_item = SweepRow.from_dict(sweep_type_0_item_data)



                    sweep_type_0.append(sweep_type_0_item)

                return sweep_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[SweepRow] | None | Unset, data)

        sweep = _parse_sweep(d.pop("sweep", UNSET))


        def _parse_teacher(data: object) -> EvaluationReport | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                teacher_type_0 = EvaluationReport.from_dict(data)



                return teacher_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EvaluationReport | None | Unset, data)

        teacher = _parse_teacher(d.pop("teacher", UNSET))


        def _parse_temperature_search(data: object) -> None | TemperatureSearch | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                temperature_search_type_0 = TemperatureSearch.from_dict(data)



                return temperature_search_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TemperatureSearch | Unset, data)

        temperature_search = _parse_temperature_search(d.pop("temperature_search", UNSET))


        job_result = cls(
            baseline=baseline,
            best_member=best_member,
            best_member_margin=best_member_margin,
            budget=budget,
            class_names=class_names,
            deployment=deployment,
            exports=exports,
            student=student,
            sweep=sweep,
            teacher=teacher,
            temperature_search=temperature_search,
        )


        job_result.additional_properties = d
        return job_result

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
