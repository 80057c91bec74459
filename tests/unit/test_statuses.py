"""Statuses are spelled once, as the enums in models/statuses.py: no bare status string in app/ or worker/, and
the API's schema offers each set as an enum with the same wire values as before."""

import ast
from pathlib import Path

from models.statuses import TERMINAL, UNFINISHED, DeliveryStatus, JobStatus, RunStatus

ROOT = Path(__file__).resolve().parents[2]
STATUS_VALUES = {s.value for s in JobStatus} | {s.value for s in DeliveryStatus}
LOGGERS = {"log", "logger", "logging"}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _log_arguments(tree: ast.AST) -> set[int]:
    """Constants inside a logging call: prose such as "failed" there is not a status."""
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in LOGGERS):
            found.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Constant))
    return found


def status_literals(source: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    allowed = _docstrings(tree) | _log_arguments(tree)
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in STATUS_VALUES and id(n) not in allowed]


def test_no_status_literal_in_app_core_or_worker():
    offenders = []
    for package in ("app", "core", "worker"):
        for path in sorted((ROOT / package).rglob("*.py")):
            offenders += [f"{path.relative_to(ROOT)}:{line}: {value!r}"
                          for line, value in status_literals(path.read_text())]
    assert not offenders, "spell statuses with models.statuses' enums:\n" + "\n".join(offenders)


def test_the_scan_finds_a_literal_in_a_comparison_an_assignment_and_a_query():
    source = '''
def f(job, s):
    """A job that has failed."""
    log.warning("job %s failed", job.id)
    if job.status == "running":
        job.status = "cancelled"
    return s.where(Run.status.in_(("queued", "pending")))
'''
    assert [v for _, v in status_literals(source)] == ["running", "cancelled", "queued", "pending"]


def test_enum_members_equal_the_wire_values_the_database_holds():
    assert [s.value for s in JobStatus] == ["queued", "running", "succeeded", "failed", "cancelled"]
    assert [s.value for s in DeliveryStatus] == ["pending", "delivered", "failed"]
    assert JobStatus.QUEUED == "queued" and f"{JobStatus.FAILED}" == "failed"
    assert RunStatus is JobStatus  # a job's end is copied onto its unfinished members
    assert set(UNFINISHED) | set(TERMINAL) == set(JobStatus) and not set(UNFINISHED) & set(TERMINAL)


def test_the_openapi_schema_offers_each_status_set_as_an_enum(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["JobStatus"]["enum"] == [s.value for s in JobStatus]
    assert components["DeliveryStatus"]["enum"] == [s.value for s in DeliveryStatus]
    job_status = {"$ref": "#/components/schemas/JobStatus"}
    assert components["JobPublic"]["properties"]["status"] == job_status
    assert components["RunMetrics"]["properties"]["status"] == job_status
    assert components["WebhookDeliveryPublic"]["properties"]["status"] == {
        "$ref": "#/components/schemas/DeliveryStatus"}
    listing = next(p for p in schema["paths"]["/v1/jobs"]["get"]["parameters"] if p["name"] == "status")
    assert {"$ref": "#/components/schemas/JobStatus"} in listing["schema"]["anyOf"]


def test_filtering_jobs_by_an_unknown_status_is_a_422_and_by_a_known_one_works(client):
    assert client.get("/v1/jobs", params={"status": "exploded"}).status_code == 422
    assert client.get("/v1/jobs", params={"status": "queued"}).json() == {"data": [], "count": 0}
