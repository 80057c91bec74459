"""The benchmark scripts still run against the engine they measure (tiny sizes; no timing is asserted)."""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str, tmp_path: Path) -> dict:
    out = tmp_path / "out.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / script), "--device", "cpu", *args, "--json", str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    return json.loads(out.read_text())


def test_gpu_check_script_runs_its_steps_on_the_cpu(tmp_path):
    env = {**__import__("os").environ, "DEVICE": "cpu", "SCALE": "0.04", "EPOCHS": "2", "ROUNDS": "1",
           "STEPS": "2", "OUT": str(tmp_path)}
    subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh")], cwd=ROOT, env=env, check=True,
                   capture_output=True, text=True, timeout=300)
    # The script runs the engine and batched-members benchmarks: their reports are checked here, not run twice.
    engine = json.loads((tmp_path / "engine_cpu.json").read_text())
    assert len(engine["results"]) == 3
    for case in engine["results"]:
        assert set(case["samples_per_second"]) == {"bare", "bare_cached", "student_alone", "engine_cache_off",
                                                   "engine_cache_on"}
        assert all(math.isfinite(v) and v > 0 for v in (*case["samples_per_second"].values(),
                                                         *case["ratios"].values()))
    assert engine["sweep"]["members"] == 5 and engine["sweep"]["sweep_seconds"] > 0
    assert engine["sweep"]["batched_members_seconds"] > 0
    batched = json.loads((tmp_path / "batched_members_cpu.json").read_text())
    assert [r["case"] for r in batched["results"]] == ["mlp 64 -> 128-128", "cnn 16-32 on 3x32x32"]
    assert all(r["batched_step_s"] > 0 and r["one_member_step_s"] > 0 for r in batched["results"])
    batch_sizes = json.loads((tmp_path / "batch_sizes_cpu.json").read_text())
    assert [r["batch_size"] for r in batch_sizes["results"]] == [32, 64, 128, 256]
    assert "| case |" in (tmp_path / "engine_cpu.md").read_text()


def test_batch_size_benchmark_reports_each_batch_size_in_process(tmp_path):
    report = run("batch_sizes.py", "--no-service", "--batch-sizes", "16,32", "--samples", "96", "--epochs", "2",
                 "--rounds", "1", "--threads", "1", tmp_path=tmp_path)
    assert [r["batch_size"] for r in report["results"]] == [16, 32]
    for entry in report["results"]:
        assert set(entry["samples_per_second"]) == {"student_alone", "engine"}
        assert all(math.isfinite(v) and v > 0 for v in entry["samples_per_second"].values())
        assert set(entry["ratios"]) == {"engine / student_alone"}
    assert report["bench_threads"] == 1


def test_batch_size_benchmark_profiles_the_engine_step(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "batch_sizes.py"), "--profile", "16", "--samples",
                          "96", "--epochs", "1", "--threads", "1"], check=True, capture_output=True, text=True,
                         timeout=300).stdout
    # torch.profiler's table of the MLP student's step: its matmuls and the fused optimizer are in it
    assert "Self CPU" in out and "aten::addmm" in out


def test_batch_size_benchmark_refuses_the_service_on_a_gpu():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "batch_sizes.py"), "--device", "cuda"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--no-service" in done.stderr


def test_methods_table_reports_every_method_temperature_and_auto_row(tmp_path):
    report = run("methods_table.py", "--seeds", "1", "--epochs", "4", "--tasks", "digits", tmp_path=tmp_path)
    task = report["tasks"]["digits"]
    methods = ("kd", "kd + logit std.", "dkd", "dist")
    expected = {"teacher", "student from scratch", *(f"{m}, T={t}" for m in methods for t in (1, 2, 5, 10, 20)),
                *(f"{m}, auto T + auto weight" for m in methods), *(f"{m}, auto T" for m in methods),
                *(f"{m}, auto T (3 folds) + auto weight (ratio 3)" for m in methods)}
    assert set(task["rows"]) == expected
    assert all(len(v) == 1 for v in task["rows"].values())
    assert set(task["omitted"]) == set(methods) and all(v[0] is not None for v in task["omitted"].values())
    assert all(v[0] in (1, 2, 5, 10, 20) for v in task["auto_chosen"].values())
