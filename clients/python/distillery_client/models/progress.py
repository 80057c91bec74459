from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast






T = TypeVar("T", bound="Progress")



@_attrs_define
class Progress:
    """ 
        Attributes:
            epoch (int): Epochs finished, over all runs of the job.
            eta_seconds (float | None): Estimated seconds left; known once an epoch has finished.
            step (int): Steps finished in the epoch under way.
            steps_per_epoch (int | None):
            total_epochs (int):
     """

    epoch: int
    eta_seconds: float | None
    step: int
    steps_per_epoch: int | None
    total_epochs: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        epoch = self.epoch

        eta_seconds: float | None
        eta_seconds = self.eta_seconds

        step = self.step

        steps_per_epoch: int | None
        steps_per_epoch = self.steps_per_epoch

        total_epochs = self.total_epochs


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "epoch": epoch,
            "eta_seconds": eta_seconds,
            "step": step,
            "steps_per_epoch": steps_per_epoch,
            "total_epochs": total_epochs,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        epoch = d.pop("epoch")

        def _parse_eta_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        eta_seconds = _parse_eta_seconds(d.pop("eta_seconds"))


        step = d.pop("step")

        def _parse_steps_per_epoch(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        steps_per_epoch = _parse_steps_per_epoch(d.pop("steps_per_epoch"))


        total_epochs = d.pop("total_epochs")

        progress = cls(
            epoch=epoch,
            eta_seconds=eta_seconds,
            step=step,
            steps_per_epoch=steps_per_epoch,
            total_epochs=total_epochs,
        )


        progress.additional_properties = d
        return progress

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
