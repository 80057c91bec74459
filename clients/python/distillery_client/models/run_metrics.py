from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from typing import cast

if TYPE_CHECKING:
  from ..models.run_metrics_metrics import RunMetricsMetrics
  from ..models.run_metrics_result_type_0 import RunMetricsResultType0





T = TypeVar("T", bound="RunMetrics")



@_attrs_define
class RunMetrics:
    """ 
        Attributes:
            id (str):
            metrics (RunMetricsMetrics):
            name (str):
            result (None | RunMetricsResultType0):
            status (JobStatus):
     """

    id: str
    metrics: RunMetricsMetrics
    name: str
    result: None | RunMetricsResultType0
    status: JobStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_metrics_metrics import RunMetricsMetrics # noqa: PLC0415
        from ..models.run_metrics_result_type_0 import RunMetricsResultType0 # noqa: PLC0415
        id = self.id

        metrics = self.metrics.to_dict()

        name = self.name

        result: dict[str, Any] | None
        if isinstance(self.result, RunMetricsResultType0):
            result = self.result.to_dict()
        else:
            result = self.result

        status = self.status.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "metrics": metrics,
            "name": name,
            "result": result,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_metrics_metrics import RunMetricsMetrics # noqa: PLC0415
        from ..models.run_metrics_result_type_0 import RunMetricsResultType0 # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        metrics = RunMetricsMetrics.from_dict(d.pop("metrics"))




        name = d.pop("name")

        def _parse_result(data: object) -> None | RunMetricsResultType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = RunMetricsResultType0.from_dict(data)



                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RunMetricsResultType0, data)

        result = _parse_result(d.pop("result"))


        status = JobStatus(d.pop("status"))




        run_metrics = cls(
            id=id,
            metrics=metrics,
            name=name,
            result=result,
            status=status,
        )


        run_metrics.additional_properties = d
        return run_metrics

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
