from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.budget_bounds import BudgetBounds





T = TypeVar("T", bound="BudgetOutcome")



@_attrs_define
class BudgetOutcome:
    """ Which member a budget chose: the most accurate on validation within it, or, with none within, the
    nearest (smallest relative overshoot of its tightest bound); the job succeeds either way.

        Attributes:
            bounds (BudgetBounds):
            reason (str): Why the winner won, in words.
            winner (str): The member kept as the student (result.best_member too).
            within_budget (bool): False: no member met the budget, and the winner is the nearest.
            nearest (None | str | Unset): With none within budget: the member nearest to it.
     """

    bounds: BudgetBounds
    reason: str
    winner: str
    within_budget: bool
    nearest: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.budget_bounds import BudgetBounds # noqa: PLC0415
        bounds = self.bounds.to_dict()

        reason = self.reason

        winner = self.winner

        within_budget = self.within_budget

        nearest: None | str | Unset
        if isinstance(self.nearest, Unset):
            nearest = UNSET
        else:
            nearest = self.nearest


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "bounds": bounds,
            "reason": reason,
            "winner": winner,
            "within_budget": within_budget,
        })
        if nearest is not UNSET:
            field_dict["nearest"] = nearest

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget_bounds import BudgetBounds # noqa: PLC0415
        d = dict(src_dict)
        bounds = BudgetBounds.from_dict(d.pop("bounds"))




        reason = d.pop("reason")

        winner = d.pop("winner")

        within_budget = d.pop("within_budget")

        def _parse_nearest(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        nearest = _parse_nearest(d.pop("nearest", UNSET))


        budget_outcome = cls(
            bounds=bounds,
            reason=reason,
            winner=winner,
            within_budget=within_budget,
            nearest=nearest,
        )


        budget_outcome.additional_properties = d
        return budget_outcome

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
