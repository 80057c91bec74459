from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.run_metrics import RunMetrics





T = TypeVar("T", bound="JobMetrics")



@_attrs_define
class JobMetrics:
    """ 
        Attributes:
            job_id (str):
            runs (list[RunMetrics]):
     """

    job_id: str
    runs: list[RunMetrics]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.run_metrics import RunMetrics # noqa: PLC0415
        job_id = self.job_id

        runs = []
        for runs_item_data in self.runs:
            runs_item = runs_item_data.to_dict()
            runs.append(runs_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "job_id": job_id,
            "runs": runs,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_metrics import RunMetrics # noqa: PLC0415
        d = dict(src_dict)
        job_id = d.pop("job_id")

        runs = []
        _runs = d.pop("runs")
        for runs_item_data in (_runs):
            runs_item = RunMetrics.from_dict(runs_item_data)



            runs.append(runs_item)


        job_metrics = cls(
            job_id=job_id,
            runs=runs,
        )


        job_metrics.additional_properties = d
        return job_metrics

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
