from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.temperature_candidate import TemperatureCandidate





T = TypeVar("T", bound="TemperatureSearch")



@_attrs_define
class TemperatureSearch:
    """ 
        Attributes:
            chosen (float):
            chosen_on (str):
            epochs_in_runs (float): The search's cost in full runs (the chosen run included).
            epochs_trained (int): Epochs trained by the search and the chosen run together.
            seconds (float):
            candidates (list[TemperatureCandidate] | None | Unset): soft_targets: every grid temperature's score, in the
                grid's order.
            margin (float | None | Unset): The runner-up's score minus the winner's: validation cross-entropy (halving),
                distance from the target share (soft_targets), or validation error rate (soft_targets_checked).
            method (None | str | Unset): soft_targets, soft_targets_checked or halving: how temperature "auto" chose.
            target_off_top_mass (float | None | Unset): soft_targets: the share off the top class aimed at.
            validation_folds (int | None | Unset): Folds each temperature was scored on.
     """

    chosen: float
    chosen_on: str
    epochs_in_runs: float
    epochs_trained: int
    seconds: float
    candidates: list[TemperatureCandidate] | None | Unset = UNSET
    margin: float | None | Unset = UNSET
    method: None | str | Unset = UNSET
    target_off_top_mass: float | None | Unset = UNSET
    validation_folds: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.temperature_candidate import TemperatureCandidate # noqa: PLC0415
        chosen = self.chosen

        chosen_on = self.chosen_on

        epochs_in_runs = self.epochs_in_runs

        epochs_trained = self.epochs_trained

        seconds = self.seconds

        candidates: list[dict[str, Any]] | None | Unset
        if isinstance(self.candidates, Unset):
            candidates = UNSET
        elif isinstance(self.candidates, list):
            candidates = []
            for candidates_type_0_item_data in self.candidates:
                candidates_type_0_item = candidates_type_0_item_data.to_dict()
                candidates.append(candidates_type_0_item)


        else:
            candidates = self.candidates

        margin: float | None | Unset
        if isinstance(self.margin, Unset):
            margin = UNSET
        else:
            margin = self.margin

        method: None | str | Unset
        if isinstance(self.method, Unset):
            method = UNSET
        else:
            method = self.method

        target_off_top_mass: float | None | Unset
        if isinstance(self.target_off_top_mass, Unset):
            target_off_top_mass = UNSET
        else:
            target_off_top_mass = self.target_off_top_mass

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
        if candidates is not UNSET:
            field_dict["candidates"] = candidates
        if margin is not UNSET:
            field_dict["margin"] = margin
        if method is not UNSET:
            field_dict["method"] = method
        if target_off_top_mass is not UNSET:
            field_dict["target_off_top_mass"] = target_off_top_mass
        if validation_folds is not UNSET:
            field_dict["validation_folds"] = validation_folds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.temperature_candidate import TemperatureCandidate # noqa: PLC0415
        d = dict(src_dict)
        chosen = d.pop("chosen")

        chosen_on = d.pop("chosen_on")

        epochs_in_runs = d.pop("epochs_in_runs")

        epochs_trained = d.pop("epochs_trained")

        seconds = d.pop("seconds")

        def _parse_candidates(data: object) -> list[TemperatureCandidate] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                candidates_type_0 = []
                _candidates_type_0 = data
                for candidates_type_0_item_data in (_candidates_type_0):
                    candidates_type_0_item = TemperatureCandidate.from_dict(candidates_type_0_item_data)



                    candidates_type_0.append(candidates_type_0_item)

                return candidates_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[TemperatureCandidate] | None | Unset, data)

        candidates = _parse_candidates(d.pop("candidates", UNSET))


        def _parse_margin(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        margin = _parse_margin(d.pop("margin", UNSET))


        def _parse_method(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        method = _parse_method(d.pop("method", UNSET))


        def _parse_target_off_top_mass(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        target_off_top_mass = _parse_target_off_top_mass(d.pop("target_off_top_mass", UNSET))


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
            candidates=candidates,
            margin=margin,
            method=method,
            target_off_top_mass=target_off_top_mass,
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
