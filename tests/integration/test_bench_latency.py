"""bench/latency.py keeps running against the real processes it measures (one tiny job; no timing asserted)."""

import json
import subprocess
import sys

import pytest

from tests.integration.stack import ROOT

pytestmark = pytest.mark.slow


def test_latency_benchmark_reports_each_interval(tmp_path):
    out = tmp_path / "latency.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "latency.py"), "--jobs", "1", "--epochs", "1",
                    "--stack", "embedded", "--json", str(out)], check=True, capture_output=True, text=True,
                   timeout=600, cwd=ROOT)
    report = json.loads(out.read_text())["embedded"]
    assert report["jobs"] == 1
    for key in ("pickup", "to_succeeded", "to_download"):
        assert 0 < report[key] < 600, (key, report)
    assert report["to_download"] >= report["to_succeeded"]
