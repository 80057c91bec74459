"""The generated client and the CLI against real processes, and their README examples as written."""

import os
import re
import subprocess
import sys

import pytest

from tests.integration.stack import ROOT, running_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("clients")) as s:
        yield s


def readme_block(name: str, lang: str) -> str:
    readme = (ROOT / "README.md").read_text()  # the CLI and client examples stay in the README
    block = re.search(rf"<!-- {name}:start -->\s*```{lang}\n(.*?)```\s*<!-- {name}:end -->", readme, re.S)
    assert block, f"the README has no {name} block"
    return block.group(1)


@pytest.fixture
def user_dir(tmp_path, exported_teacher_file):
    """A directory like the walkthrough leaves behind: teacher.pt2 and the .venv."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "teacher.pt2").write_bytes(exported_teacher_file.read_bytes())
    return tmp_path


def test_generated_client_drives_the_whole_flow_as_the_readme_shows(stack, user_dir):
    env = {**os.environ, "DISTILLERY_URL": stack.url}
    done = subprocess.run([sys.executable, "-c", readme_block("client", "python")], cwd=user_dir, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    job_id, status, accuracy, errors = done.stdout.split()  # read as attributes of the typed result
    assert status == "succeeded" and float(accuracy) > 0.9
    assert int(errors) == round((1 - float(accuracy)) * 360)  # digits' held-out test split
    import torch

    module = torch.export.load(str(user_dir / "student.pt2")).module()
    probs = module(torch.rand(5, 64))
    torch.testing.assert_close(probs.sum(1), torch.ones(5), atol=1e-5, rtol=0)


def test_generated_client_returns_typed_problems(stack):
    from distillery_client import Client
    from distillery_client.api.jobs import get_job
    from distillery_client.models import ProblemDetail

    with Client(base_url=stack.url) as client:
        problem = get_job.sync(client=client, job_id="job_missing")
        assert isinstance(problem, ProblemDetail) and problem.status == 404 and "job_missing" in problem.detail


def test_cli_walkthrough_runs_as_written(stack, user_dir):
    env = {**os.environ, "DISTILLERY_URL": stack.url, "COLUMNS": "200"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block("cli", "bash")], cwd=user_dir, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "succeeded" in done.stderr  # the progress bar's last word
    assert re.search(r"^0\.9\d*$", done.stdout, re.M), done.stdout  # the test accuracy line
    import onnxruntime as ort

    session = ort.InferenceSession(str(user_dir / "student.onnx"))
    assert session.get_outputs()[0].name == "probabilities"


def test_cli_reports_server_errors_and_exits_non_zero(stack):
    env = {**os.environ, "DISTILLERY_URL": stack.url}
    cli = str(ROOT / ".venv" / "bin" / "distillery")
    done = subprocess.run([cli, "jobs", "show", "job_missing"], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "404" in done.stderr and "job_missing" in done.stderr
    done = subprocess.run([cli, "jobs", "submit", "--teacher", "tch_x", "--transfer-set", "ts_x"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 1 and "tch_x" in done.stderr
    done = subprocess.run([cli, "--url", "http://127.0.0.1:1", "jobs", "list"], capture_output=True, text=True)
    assert done.returncode == 2 and "cannot reach the server" in done.stderr


def _cli(stack, *args, url: str | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "DISTILLERY_URL": url or stack.url, "COLUMNS": "80"}
    return subprocess.run([str(ROOT / ".venv" / "bin" / "distillery"), *args], env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _submit_args(stack, teacher_file, epochs: int, batch_size: int = 64) -> list[str]:
    import httpx

    with open(teacher_file, "rb") as f:
        teacher = httpx.post(f"{stack.url}/v1/teachers", files={"file": ("t.pt", f)},
                             data={"name": "t", "input_shape": "[64]"}, timeout=120).json()["id"]
    ts = httpx.post(f"{stack.url}/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    return ["jobs", "submit", "--teacher", teacher, "--transfer-set", ts,
            "--hyperparameters", f'{{"epochs": {epochs}, "batch_size": {batch_size}}}']


def test_cli_lists_print_whole_ids_in_80_columns_or_json(stack, teacher_file):
    import json

    assert _cli(stack, *_submit_args(stack, teacher_file, 1)).returncode == 0
    for what in ("jobs", "teachers", "transfer-sets"):
        listed = json.loads(_cli(stack, what, "list", "--output", "json").stdout)
        assert listed["count"] >= 1 and listed["data"]
        table = _cli(stack, what, "list")
        assert table.returncode == 0, table.stderr
        for row in listed["data"]:
            assert re.search(rf"(^|\W){re.escape(row['id'])}(\W|$)", table.stdout, re.M), (row["id"], table.stdout)
    created = json.loads(_cli(stack, "jobs", "list", "--output", "json").stdout)["data"][0]["created_at"]
    assert created[:10] in _cli(stack, "jobs", "list").stdout  # the creation time is not wrapped either


def test_ctrl_c_stops_following_and_says_how_to_go_on(stack, teacher_file):
    import signal
    import time

    import httpx

    # batch 4: minutes of work, so the job is still running when Ctrl-C comes however fast the machine is
    cli = [str(ROOT / ".venv" / "bin" / "distillery"), *_submit_args(stack, teacher_file, 300, batch_size=4),
           "--wait"]
    # A terminal's Ctrl-C, even when the suite itself runs in the background (where SIGINT is ignored and
    # the ignoring is inherited): the CLI starts with SIGINT at its default, as a user's shell leaves it
    proc = subprocess.Popen(cli, env={**os.environ, "DISTILLERY_URL": stack.url}, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    job_id = None
    for line in proc.stderr:  # waits on what the user waits on: the CLI saying it submitted the job
        if match := re.search(r"submitted (job_\w+)", line):
            job_id = match.group(1)
            break
    assert job_id
    time.sleep(1)  # the CLI is now reading the event stream
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "keeps running" in stderr and f"distillery jobs watch {job_id}" in stderr
    assert f"distillery jobs cancel {job_id}" in stderr
    assert httpx.get(f"{stack.url}/v1/jobs/{job_id}").json()["status"] in ("queued", "running", "succeeded")
    httpx.post(f"{stack.url}/v1/jobs/{job_id}/cancel")
    stack.wait_for_job(httpx.Client(base_url=stack.url), job_id)


def test_wait_reconnects_when_the_event_stream_drops(stack, teacher_file):
    from tests.integration.cutting_proxy import CuttingProxy

    # Only the event stream is cut, each time after 10 events and mid-response: however fast the job runs,
    # its 60 epochs reach the CLI over several connections.
    proxy = CuttingProxy(stack.port, paths=(b"/events/stream",), cut_after_events=10)
    try:
        done = _cli(stack, *_submit_args(stack, teacher_file, 60), "--wait", url=f"http://127.0.0.1:{proxy.port}")
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    assert proxy.cuts >= 2  # the stream really dropped, more than once
    assert "succeeded" in done.stderr
    counts = re.findall(r"(\d+)/(\d+)", done.stderr)
    assert counts and counts[-1] == ("60", "60"), done.stderr  # every epoch shown once, none twice
