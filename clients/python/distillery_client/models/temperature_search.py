from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="TemperatureSearch")



@_attrs_define
class TemperatureSearch:
    """ 
        Attributes:
            chosen (float):
            chosen_on (str):
            epochs_in_runs (float): The search's cost in full runs.
            epochs_trained (int):
            seconds (float):
            margin (float | None | Unset): Validation cross-entropy of the runner-up minus the winner's.
            validation_folds (int | None | Unset): Folds each temperature was scored on.
     """

    chosen: float
    chosen_on: str
    epochs_in_runs: float
    epochs_trained: int
    seconds: float
    margin: float | None | Unset = UNSET
    validation_folds: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        chosen = self.chosen

        chosen_on = self.chosen_on

        epochs_in_runs = self.epochs_in_runs

        epochs_trained = self.epochs_trained

        seconds = self.seconds

        margin: float | None | Unset
        if isinstance(self.margin, Unset):
            margin = UNSET
        else:
            margin = self.margin

        validation_folds: int | None | Unset
        if isinstance(self.validation_folds, Unset):
            validation_folds = UNSET
        else:
            validation_folds = self.validation_folds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "chosen": chosen,
            "chosen_on": chosen_on,
            "epochs_in_runs": epochs_in_runs,
            "epochs_trained": epochs_trained,
            "seconds": seconds,
        })
        if margin is not UNSET:
            field_dict["margin"] = margin
        if validation_folds is not UNSET:
            field_dict["validation_folds"] = validation_folds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        chosen = d.pop("chosen")

        chosen_on = d.pop("chosen_on")

        epochs_in_runs = d.pop("epochs_in_runs")

        epochs_trained = d.pop("epochs_trained")

        seconds = d.pop("seconds")

        def _parse_margin(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        margin = _parse_margin(d.pop("margin", UNSET))


        def _parse_validation_folds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        validation_folds = _parse_validation_folds(d.pop("validation_folds", UNSET))


        temperature_search = cls(
            chosen=chosen,
            chosen_on=chosen_on,
            epochs_in_runs=epochs_in_runs,
            epochs_trained=epochs_trained,
            seconds=seconds,
            margin=margin,
            validation_folds=validation_folds,
        )


        temperature_search.additional_properties = d
        return temperature_search

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
