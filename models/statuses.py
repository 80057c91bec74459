"""The closed sets of states the database records as strings: a job's, a sweep member's and a webhook
delivery's. StrEnum members equal their wire values, so the string columns, the JSON API and the
Prometheus labels keep the same text while the code spells each state once."""

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A sweep member goes through the same states, and a job that ends copies its end onto the members left
# unfinished: one set keeps those two machines from drifting apart.
RunStatus = JobStatus

# Tuples, not sets: they go into SQL ``IN`` lists, whose order should not change from one statement to the next.
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
