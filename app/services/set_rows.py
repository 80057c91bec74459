"""A transfer set's row from what was read of it, and the answers for a set that cannot be kept."""

from app.problems import Problem, invalid
from core.ids import new_id
from core.tables import TransferSet
from models.transfer_sets import TransferData


def set_row(name: str, kind: str, data: TransferData, **kw) -> TransferSet:
    return TransferSet(
        id=new_id("transfer_set"), name=name, kind=kind, num_samples=len(data.x_train), num_test=data.num_test,
        sample_shape=data.sample_shape, num_classes=data.num_classes, labelled=data.labelled, dtype=data.dtype, **kw,
    )


def invalid_set(exc: Exception, field: str) -> Problem:
    return invalid(str(exc), field=field, kind="invalid-transfer-set")


def too_large(exc: Exception, field: str) -> Problem:
    return Problem(413, str(exc), errors=[{"field": field, "message": str(exc)}])
