"""bench/batch_sizes.py keeps running through the real API and worker (tiny sizes; no timing asserted)."""

import json
import math
import shutil
import subprocess
import sys

import pytest

from tests.integration.stack import ROOT

pytestmark = pytest.mark.slow

# Appended to a package of the copied checkout: names the package and the program that imported it. Not in
# every process: a teacher's sandbox sees neither the variable nor the folder.
MARK = """
import os as _os, sys as _sys
_program = _os.path.basename(_os.path.dirname(_sys.argv[0])) or _sys.argv[0]
try:
    open(_os.path.join(_os.environ["COMPARED_MARKS"], "{package}-" + _program), "w").close()
except (KeyError, OSError):
    pass
"""


def test_batch_size_benchmark_measures_jobs_through_the_service(tmp_path):
    out = tmp_path / "batch_sizes.json"
    # --compare-root runs a second API and worker from another checkout: here a copy of this one whose
    # packages, once imported, leave a mark, so that the test sees the copy's code run rather than this one's
    other = tmp_path / "checkout"
    for part in ("app", "core", "worker", "models", "migrations"):
        shutil.copytree(ROOT / part, other / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "alembic.ini", other)
    marks = tmp_path / "marks"
    marks.mkdir()
    for package in ("app", "worker"):
        with open(other / package / "__init__.py", "a") as f:
            f.write(MARK.format(package=package))
    subprocess.run([sys.executable, str(ROOT / "bench" / "batch_sizes.py"), "--batch-sizes", "32,64", "--samples",
                    "256", "--epochs", "2", "--rounds", "1", "--threads", "1", "--json", str(out),
                    "--compare-root", str(other), "--worker-env", f"COMPARED_MARKS={marks}"],
                   check=True, capture_output=True, text=True, timeout=600, cwd=ROOT)
    report = json.loads(out.read_text())
    assert [r["batch_size"] for r in report["results"]] == [32, 64]
    for entry in report["results"]:
        assert set(entry["samples_per_second"]) == {"student_alone", "engine", "service", "service_before"}
        assert all(math.isfinite(v) and v > 0 for v in entry["samples_per_second"].values())
    # the worker's pool process applied DISTILLERY_WORKER_THREADS and said so in its log
    assert report["worker_threads"] == 1
    # the compared API (under uvicorn) and worker (under celery) ran the copy's packages; this checkout's leave
    # no mark
    assert {"app-uvicorn", "worker-celery"} <= {p.name for p in marks.iterdir()}
