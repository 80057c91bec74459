"""The best student under a budget, as the API shows it: each sweep member's cost (further keys of a
``result.sweep`` row) and ``result.budget`` (worker/jobs/member_costs.py writes them; models/budget.py holds
the rule that picks the winner)."""

from pydantic import BaseModel, Field

from app.deployment_schemas import _Written


class MemberCost(BaseModel):
    """A member's student and what it costs, measured as result.deployment measures the student: the fp32 ONNX
    file run by ONNX Runtime at batch 1, on the worker's CPU. Present in a sweep over students."""

    student: str | None = Field(None, description="The member's student, as its name shows it.")
    parameters: int | None = Field(None, description="The student's trainable weights.")
    size_bytes: int | None = Field(None, description="Bytes of the student's fp32 ONNX file.")
    latency_ms_p50: float | None = Field(None, description="Median milliseconds of one call at batch 1.")
    latency_ms_p90: float | None = Field(None, description="90th percentile milliseconds of one call at batch 1.")
    within_budget: bool | None = Field(None, description="The job has a budget: whether this member meets it.")
    cost_error: str | None = Field(None, description="Why the member could not be measured.")


class BudgetBounds(_Written):
    latency_ms_p50: float | None = None
    parameters: int | None = None
    size_bytes: int | None = None


class BudgetOutcome(_Written):
    """Which member a budget chose: the most accurate on validation within it, or, with none within, the
    nearest (smallest relative overshoot of its tightest bound); the job succeeds either way."""

    bounds: BudgetBounds
    winner: str = Field(description="The member kept as the student (result.best_member too).")
    within_budget: bool = Field(description="False: no member met the budget, and the winner is the nearest.")
    nearest: str | None = Field(None, description="With none within budget: the member nearest to it.")
    reason: str = Field(description="Why the winner won, in words.")
