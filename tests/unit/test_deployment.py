"""The deployment report's measuring parts on real networks: timing bounded as configured, parameters counted as
the files hold them, and the teacher measured inside its real sandbox."""

import time

import numpy as np
import pytest
import torch

from models import deployment
from models.export import PlainSoftmax, export_onnx
from models.sandbox.jail import SandboxPolicy, sandbox_problem
from models.sandbox.remote import SandboxedTeacher
from models.zoo import build_student

FIGURES = ("latency_ms_p50", "latency_ms_p90", "samples_per_second")


def test_time_calls_times_the_configured_calls_on_both_batch_sizes():
    seen = []
    figures = deployment.time_calls(lambda x: seen.append(x.shape[0]), [3, 2],
                                    deployment.Timing(warmup=4, latency_calls=20, throughput_calls=6))
    # 4 warm-up and 20 timed calls at batch 1 (5 rounds of 4),
    # then one warm-up (a fifth of 4, at least 1) and 6 at batch 64
    assert seen == [1] * 24 + [64] * 7
    assert (figures["latency_calls"], figures["throughput_calls"]) == (20, 6)
    assert 0 <= figures["latency_ms_p50"] <= figures["latency_ms_p90"]
    assert figures["samples_per_second"] > 0


def test_each_latency_round_lasts_long_enough_to_find_a_quiet_spell():
    """A fast network is timed for at least 5 rounds of round_seconds, more calls than asked; p50 is the
    quietest round's: a spell of slow calls in one round does not move it."""
    calls = []

    def call(x):
        calls.append(time.perf_counter())
        time.sleep(0.002 if 40 <= len(calls) < 60 else 0.0)  # one slow spell, inside the first round

    figures = deployment.time_calls(call, [2], deployment.Timing(warmup=0, latency_calls=10, throughput_calls=1,
                                                                  round_seconds=0.02))
    assert figures["latency_calls"] > 10
    assert calls[-2] - calls[0] >= 5 * 0.02
    assert figures["latency_ms_p90"] < 1.0  # the slow spell's 2 ms calls are not the figure


def test_a_slow_network_is_timed_on_fewer_calls_but_never_fewer_than_the_minimum():
    figures = deployment.time_calls(lambda x: time.sleep(0.01), [2],
                                    deployment.Timing(warmup=1, latency_calls=1000, throughput_calls=1000,
                                                      max_seconds=0.001))
    assert figures["latency_calls"] == figures["throughput_calls"] == deployment.MIN_CALLS


def test_every_network_is_timed_on_the_same_input():
    a, b = deployment.sample_input([4, 4], 64), deployment.sample_input([4, 4], 64)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.shape == (64, 4, 4)


def test_onnx_and_torch_measurements_of_one_student(tmp_path):
    torch.manual_seed(0)
    net = build_student({"arch": "cnn", "channels": [8, 16]}, [1, 8, 8], 10).eval()
    model = PlainSoftmax(net, 10).eval()
    export_onnx(model, [1, 8, 8], tmp_path / "s.onnx")
    timing = deployment.Timing(warmup=2, latency_calls=10, throughput_calls=5)
    for figures, runtime in ((deployment.measure_onnx(tmp_path / "s.onnx", [1, 8, 8], 1, timing), "onnxruntime"),
                             (deployment.measure_torch(model, [1, 8, 8], 1, timing), "torch")):
        assert figures["runtime"].startswith(runtime + " ") and figures["threads"] == 1
        assert all(figures[k] > 0 for k in FIGURES)
    assert torch.get_num_threads() >= 1
    # The exporter folds the batch norms into the convolutions (adding conv biases, dropping their weights),
    # and keeps the logit bias: the file's float weights differ from the network's parameters, and are counted.
    bn = sum(m.weight.numel() + m.bias.numel() for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    conv_bias = sum(m.out_channels for m in net.modules() if isinstance(m, torch.nn.Conv2d))
    assert deployment.onnx_parameters(tmp_path / "s.onnx") == deployment.torch_parameters(net) - bn + conv_bias + 10


@pytest.mark.parametrize("formats,mode", [({"torchscript"}, "torchscript"),
                                          ({"exported_program"}, "exported_program"),
                                          ({"safetensors"}, "eager"), ({"torchscript", "safetensors"}, "eager")])
def test_the_student_is_timed_in_torch_the_way_the_teacher_runs(formats, mode):
    """Beside a TorchScript teacher the student runs scripted, beside an exported program as a torch.export
    graph: the speedup compares networks, not execution modes (an eager student read 0.6x beside a scripted
    teacher of ten times its weights)."""
    from worker.jobs.deployment import _as_teacher_runs

    torch.manual_seed(0)
    model = PlainSoftmax(build_student({"arch": "mlp", "hidden_sizes": [16]}, [64], 10), 10).eval()
    got, runnable = _as_teacher_runs(model, formats, [64])
    assert got == mode
    assert isinstance(runnable, torch.jit.ScriptModule) == (mode == "torchscript")
    x = torch.randn(3, 64)
    with torch.no_grad():
        torch.testing.assert_close(runnable(x), model(x))


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs bubblewrap")
@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_a_teacher_is_measured_inside_its_sandbox(teacher_file, tmp_path, fmt):
    scripted = torch.jit.load(str(teacher_file))
    path = teacher_file
    if fmt == "onnx":
        path = tmp_path / "t.onnx"
        torch.onnx.export(scripted, (torch.zeros(2, 64),), str(path), input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    teacher = SandboxedTeacher(path, fmt, SandboxPolicy(call_seconds=120, threads=1))
    try:
        figures = teacher.measure([64], deployment.timing_dict(deployment.Timing(latency_calls=10,
                                                                                  throughput_calls=5)))
    finally:
        teacher.close()
    expected = (deployment.onnx_parameters(path) if fmt == "onnx"
                else sum(p.numel() for p in scripted.parameters()))
    assert figures["parameters"] == expected > 60_000  # the 64-256-256-10 teacher
    assert figures["runtime"] == ("onnxruntime" if fmt == "onnx" else "torch") and figures["threads"] == 1
    assert (figures["latency_calls"], figures["throughput_calls"]) == (10, 5)
    assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p90"] and figures["samples_per_second"] > 0


def test_an_ensemble_job_with_only_an_int8_export_reports_every_member(client, teacher_file, tmp_path,
                                                                       monkeypatch):
    """The job runner on a real database: two sandboxed teachers summed, the fp32 ONNX student measured though
    it is not among the job's formats (and so not downloadable), the INT8 file the one measured."""
    from core.config import get_settings
    from models.examples import digits_teacher, save_torchscript
    from tests.unit.test_job_runner import digits_set, run_job, upload_teacher

    monkeypatch.setenv("DISTILLERY_DEPLOYMENT_LATENCY_CALLS", "10")
    get_settings.cache_clear()
    second = tmp_path / "second.pt"
    save_torchscript(digits_teacher(epochs=2, hidden=32, seed=1), second)
    ids = [upload_teacher(client, teacher_file), upload_teacher(client, second)]
    job = run_job(client, teacher_ids=ids, transfer_set_id=digits_set(client), hyperparameters={"epochs": 3},
                  export_formats=["onnx_int8"])
    assert job["status"] == "succeeded", job["error"]
    report = job["result"]["deployment"]
    members = report["teacher"]["members"]
    assert [m["id"] for m in members] == ids and all(m["latency_calls"] >= 10 for m in members)
    sizes = [teacher_file.stat().st_size, second.stat().st_size]
    assert [m["size_bytes"] for m in members] == sizes and report["teacher"]["size_bytes"] == sum(sizes)
    assert report["teacher"]["parameters"] == sum(m["parameters"] for m in members)
    assert report["teacher"]["latency_ms_p50"] == pytest.approx(sum(m["latency_ms_p50"] for m in members))
    assert report["student"]["exported"] is False
    assert client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"}).status_code == 409
    r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx_int8"})
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('student.int8.onnx"')
    assert len(r.content) == report["student_int8"]["size_bytes"] == job["result"]["exports"]["onnx_int8"]["size_bytes"]
    assert report["student_int8"]["test_samples"] == 360 and 0 <= report["student_int8"]["agreement_with_fp32"] <= 1


def test_the_report_can_be_switched_off(client, teacher_file, monkeypatch):
    from core.config import get_settings
    from tests.unit.test_job_runner import digits_set, run_job, upload_teacher

    monkeypatch.setenv("DISTILLERY_DEPLOYMENT_REPORT", "false")
    get_settings.cache_clear()
    job = run_job(client, teacher_ids=[upload_teacher(client, teacher_file)], transfer_set_id=digits_set(client),
                  hyperparameters={"epochs": 1}, export_formats=["safetensors"])
    assert job["status"] == "succeeded", job["error"]
    assert "deployment" not in job["result"] and list(job["result"]["exports"]) == ["safetensors"]
