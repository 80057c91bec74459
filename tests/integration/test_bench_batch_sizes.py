"""bench/batch_sizes.py keeps running through the real API and worker (tiny sizes; no timing asserted)."""

import json
import math
import subprocess
import sys

import pytest

from tests.integration.stack import ROOT

pytestmark = pytest.mark.slow


def test_batch_size_benchmark_measures_jobs_through_the_service(tmp_path):
    out = tmp_path / "batch_sizes.json"
    # --compare-root runs a second API and worker from "another checkout" (this one, by another path, so that
    # its own migrations run as an older checkout's would)
    (tmp_path / "checkout").symlink_to(ROOT, target_is_directory=True)
    subprocess.run([sys.executable, str(ROOT / "bench" / "batch_sizes.py"), "--batch-sizes", "32,64", "--samples",
                    "256", "--epochs", "2", "--rounds", "1", "--threads", "1", "--json", str(out),
                    "--compare-root", str(tmp_path / "checkout")],
                   check=True, capture_output=True, text=True, timeout=600, cwd=ROOT)
    report = json.loads(out.read_text())
    assert [r["batch_size"] for r in report["results"]] == [32, 64]
    for entry in report["results"]:
        assert set(entry["samples_per_second"]) == {"student_alone", "engine", "service", "service_before"}
        assert all(math.isfinite(v) and v > 0 for v in entry["samples_per_second"].values())
    # the worker's pool process applied DISTILLERY_WORKER_THREADS and said so in its log
    assert report["worker_threads"] == 1
