"""The best student under a budget: the bounds a job sets on its student's cost, and the rule that picks the
winner among a sweep's members once each is measured (worker/jobs/member_costs.py measures them the way
models/deployment.py measures every network).

Pure pydantic and arithmetic, no torch: the API validates a budget with this same class, and the rule is
tested without training anything.
"""

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The figures a bound may be set on, each measured per member; what the deployment report calls them.
BOUNDED = ("latency_ms_p50", "parameters", "size_bytes")


class Budget(BaseModel):
    """Upper bounds on the student's cost; a member is within budget when it meets every bound given."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    latency_ms_p50: float | None = Field(None, gt=0, description="Median milliseconds of one call at batch 1, the "
                                         "fp32 ONNX student on the worker's CPU (as result.deployment measures it).")
    parameters: int | None = Field(None, gt=0, description="The student's trainable weights.")
    size_bytes: int | None = Field(None, gt=0, description="Bytes of the student's fp32 ONNX file.")

    @model_validator(mode="after")
    def _some_bound(self) -> "Budget":
        if not self.bounds():
            raise ValueError(f"a budget needs at least one bound: {', '.join(BOUNDED)}")
        return self

    def bounds(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in BOUNDED if getattr(self, k) is not None}

    def overshoot(self, figures: dict) -> float:
        """The largest relative excess over a bound (figure / bound − 1): 0 or less is within budget. A figure
        that could not be measured counts as infinitely over its bound."""
        excess = [(figures[k] / bound - 1.0) if figures.get(k) is not None else math.inf
                  for k, bound in self.bounds().items()]
        return max(excess)

    def within(self, figures: dict) -> bool:
        return self.overshoot(figures) <= 0


def _accuracy_rank(member: dict) -> tuple:
    """Most accurate on validation first; ties (accuracy moves in steps of one sample) by lower validation
    cross-entropy, then the grid's order."""
    accuracy, cross_entropy = member.get("val_accuracy"), member.get("val_cross_entropy")
    return (-accuracy if accuracy is not None else math.inf,
            cross_entropy if cross_entropy is not None else math.inf)


def choose(members: list[dict], budget: Budget) -> dict:
    """The winner among succeeded, measured members (dicts with ``name``, the validation metrics and the
    BOUNDED figures, in the grid's order): the most accurate within budget, or, with none within budget, the
    nearest (smallest relative overshoot, then the most accurate). Returns ``result.budget``."""
    if not members:
        raise ValueError("no member to choose from")
    within = [m for m in members if budget.within(m)]
    bounds = budget.bounds()
    if within:
        winner = min(within, key=_accuracy_rank)
        over = [m["name"] for m in members if m not in within]
        reason = (f"{winner['name']} is the most accurate on validation of the {len(within)} members within "
                  f"budget" + (f"; over budget: {', '.join(over)}" if over else ""))
        return {"bounds": bounds, "winner": winner["name"], "within_budget": True, "nearest": None,
                "reason": reason}
    nearest = min(members, key=lambda m: (budget.overshoot(m), *_accuracy_rank(m)))
    excess = budget.overshoot(nearest)
    shown = "unmeasured" if math.isinf(excess) else f"{excess:.0%} over"
    return {"bounds": bounds, "winner": nearest["name"], "within_budget": False, "nearest": nearest["name"],
            "reason": f"no member is within budget; the nearest is {nearest['name']} ({shown} its tightest bound), "
                      "and it is the student"}
