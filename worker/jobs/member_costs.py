"""A sweep over students: what each member's student costs, and which member is the job's student.

Members are measured once the last one has finished, one after another in the finishing worker, so that
no member is timed while the sweep's others still train; each the way result.deployment measures the job's
student (models/deployment.py: its fp32 ONNX file, with the job's metadata, run by ONNX Runtime at batch 1
on DISTILLERY_DEPLOYMENT_THREADS threads). A job with a budget keeps the most accurate member within it
(models/budget.py); without one, the best on validation as every sweep does. A member that cannot be
measured never fails the job: its row says why, and under a budget it counts as over every bound.
"""

import logging
import tempfile
from pathlib import Path

from core.config import get_settings
from core.store import ArtifactStore
from core.tables import Run, Teacher
from models import deployment as measuring
from models.budget import choose
from models.export import PlainSoftmax, export_onnx
from models.job_spec import JobSpec
from models.student_sweep import student_labels
from models.zoo import build_student, load_state_dict_into
from worker.engine.search import score
from worker.jobs.deployment import configured_timing
from worker.jobs.ending import short_reason

log = logging.getLogger(__name__)


def member_student(spec: JobSpec, teacher: Teacher, run: Run, store: ArtifactStore) -> PlainSoftmax:
    """The member's trained student, as the job would export it."""
    dtype = teacher.input_dtype or "float32"
    network = build_student(spec.member_spec(run.name).student, teacher.input_shape, teacher.num_classes, dtype)
    student = PlainSoftmax(network, teacher.num_classes, input_dtype=dtype)
    weights = run.weights_key or f"sweeps/{run.job_id}/{run.id}.safetensors"  # rows from before 0009
    load_state_dict_into(student, store.open_local(weights))
    return student.eval()


def measure(student: PlainSoftmax, input_shape, metadata: dict) -> dict:
    """Parameters, fp32 ONNX bytes and batch-1 latency of one student."""
    threads = get_settings().deployment_threads
    with tempfile.TemporaryDirectory(prefix="distillery-member-") as folder:
        path = Path(folder) / "student.onnx"
        export_onnx(student, input_shape, path, metadata)
        figures = measuring.measure_onnx(path, input_shape, threads, configured_timing())
        return {"parameters": measuring.torch_parameters(student.student), "size_bytes": path.stat().st_size,
                **{k: figures[k] for k in ("latency_ms_p50", "latency_ms_p90")}}


def choose_member(spec: JobSpec, done: list[Run], teacher: Teacher, store: ArtifactStore,
                  metadata: dict) -> tuple[Run, dict[str, dict], dict | None]:
    """(the member kept, each member's cost row by name, result.budget or None). ``done``: the succeeded
    members in the grid's order."""
    students = spec.sweep.member_students()
    if not students:
        return min(done, key=lambda r: (score(r.result), done.index(r))), {}, None
    costs: dict[str, dict] = {}
    labels = list(zip(spec.sweep.students, student_labels(spec.sweep.students), strict=True))
    for run in done:
        row: dict = {"student": next(label for s, label in labels if s == students[run.name])}
        try:
            row.update(measure(member_student(spec, teacher, run, store), teacher.input_shape, metadata))
        except Exception as exc:
            log.exception("job %s: sweep member %s could not be measured", run.job_id, run.name)
            row["cost_error"] = short_reason(exc)
        if spec.budget is not None:
            row["within_budget"] = spec.budget.within(row)
        costs[run.name] = row
    if spec.budget is None:
        return min(done, key=lambda r: (score(r.result), done.index(r))), costs, None
    outcome = choose([{"name": r.name, **r.result, **costs[r.name]} for r in done], spec.budget)
    return next(r for r in done if r.name == outcome["winner"]), costs, outcome

