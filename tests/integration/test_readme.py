"""The README's walkthrough and text section, and the guide's scikit-learn section, run as written against
`python -m app.launch` (what `make run` starts), on a machine whose bubblewrap is hidden: the first hour of a
new user without it. And the same machine with auth required: it refuses uploads and runs none of their code."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import hostile_models as hostile
from tests.integration.stack import ROOT, base_env, free_port

pytestmark = pytest.mark.slow


# the blocks a user pastes, and the page each is on
PAGES = {"walkthrough": "README.md", "text": "README.md", "sklearn": "docs/guides.md"}


def readme_block(name: str = "walkthrough") -> str:
    page = (ROOT / PAGES[name]).read_text()
    block = re.search(rf"<!-- {name}:start -->\s*```bash\n(.*?)```\s*<!-- {name}:end -->", page, re.S)
    assert block, f"{PAGES[name]} has no {name} block"
    return block.group(1)


def run_walkthrough(workdir: Path, api: str, timeout: float, name: str = "walkthrough") -> subprocess.CompletedProcess:
    """As the README says to run it: a fresh bash, errexit and pipefail on. PYTHONPATH: this checkout's
    models package, whichever checkout installed the shared virtual environment."""
    env = {**os.environ, "API": api, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block(name)], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=timeout)


def path_without_bwrap(tmp: Path) -> str:
    """A PATH with every program of this one but bubblewrap: a machine that never installed it."""
    hidden = tmp / "bin-without-bwrap"
    hidden.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = hidden / entry.name
            if entry.name != "bwrap" and not target.exists() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    assert shutil.which("bwrap", path=str(hidden)) is None and shutil.which("curl", path=str(hidden))
    return str(hidden)


def user_dir(tmp: Path) -> Path:
    workdir = tmp / "user"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    return workdir


@contextlib.contextmanager
def launched(tmp: Path, env_extra: dict[str, str]):
    """`python -m app.launch` on a free loopback port, until it says it is up; Ctrl-C at the end."""
    port = free_port()
    env = {**base_env(tmp / "var"), "PORT": str(port), **env_extra}
    log_path = tmp / "launch.log"
    log = open(log_path, "wb")  # noqa: SIM115
    launcher = subprocess.Popen([sys.executable, "-m", "app.launch"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert launcher.poll() is None, log_path.read_text()
            if "API docs at" in log_path.read_text():
                break
            time.sleep(0.5)
        else:
            pytest.fail("make run did not announce the docs URL\n" + log_path.read_text())
        yield launcher, port, env, log_path
    finally:
        if launcher.poll() is None:
            os.kill(launcher.pid, signal.SIGINT)  # what Ctrl-C sends
        launcher.wait(timeout=60)
        log.close()


def test_readme_walkthrough_runs_as_written_without_bubblewrap_and_ctrl_c_stops_everything(tmp_path):
    with launched(tmp_path, {"PATH": path_without_bwrap(tmp_path)}) as (launcher, port, env, log_path):
        banner = log_path.read_text()
        assert "NO SANDBOX (rlimits-only)" in banner and "uploaded teachers: RLIMITS-ONLY" in banner, banner
        workdir = user_dir(tmp_path)
        done = run_walkthrough(workdir, f"http://127.0.0.1:{port}", timeout=1200)  # a loaded CI machine
        assert done.returncode == 0, done.stdout + done.stderr + log_path.read_text()[-4000:]
        assert "in the sandbox mode rlimits-only" in done.stdout, done.stdout
        assert re.search(r"^succeeded 60/60$", done.stdout, re.M), done.stdout
        accuracy = float(re.search(r"test accuracy ([0-9.]+)", done.stdout).group(1))
        assert accuracy >= 0.9
        assert (workdir / "student.pt2").stat().st_size > 0
        # TorchScript is deprecated; nothing the user runs, and nothing make run prints, warns about it
        for text in (done.stdout + done.stderr, log_path.read_text()):
            assert "FutureWarning" not in text, text[-3000:]

        # the guide's "Your scikit-learn model", pasted next on the same server
        forest = run_walkthrough(workdir, f"http://127.0.0.1:{port}", timeout=900, name="sklearn")
        assert forest.returncode == 0, forest.stdout + forest.stderr + log_path.read_text()[-4000:]
        described, result = [json.loads(line) for line in forest.stdout.splitlines() if line.startswith("{")]
        assert described == {"output": "probabilities", "output_kind": "probabilities", "num_classes": 10}
        assert result["status"] == "succeeded" and result["student"] >= result["teacher"] - 0.03, result
        assert (workdir / "forest-student.onnx").stat().st_size > 0

        # the README's text classifier: a BERT made here, distilled, its student loaded with the Auto classes
        text = run_walkthrough(workdir, f"http://127.0.0.1:{port}", timeout=900, name="text")
        assert text.returncode == 0, text.stdout + text.stderr + log_path.read_text()[-4000:]
        result = next(json.loads(line) for line in text.stdout.splitlines() if line.startswith("{"))
        assert result["status"] == "succeeded" and result["student"] >= result["teacher"] - 0.05, result
        assert re.search(r"^the student says (negative|neutral|positive)$", text.stdout, re.M), text.stdout
        os.kill(launcher.pid, signal.SIGINT)
        code = launcher.wait(timeout=60)
    assert code == 0, log_path.read_text()[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    leftover = subprocess.run(["pgrep", "-f", f"distillery-{launcher.pid}@"], capture_output=True, text=True)
    assert leftover.stdout == "", "the worker outlived make run"


def test_the_walkthrough_stops_at_its_first_failed_step(tmp_path):
    """Nothing listens on the port: step 0 fails, and nothing after it runs (no teacher is trained)."""
    workdir = user_dir(tmp_path)
    done = run_walkthrough(workdir, f"http://127.0.0.1:{free_port()}", timeout=60)
    assert done.returncode != 0
    assert "no Distillery at" in done.stderr and "make run" in done.stderr, done.stderr
    assert not (workdir / "teacher.pt2").exists()


def test_without_bubblewrap_a_server_requiring_keys_refuses_uploads_and_runs_none_of_their_code(tmp_path):
    hidden = path_without_bwrap(tmp_path)
    marker = tmp_path / "ran"
    attacks = [(hostile.pt2_with_pickled_weight(tmp_path, marker), "exported_program"),
               (hostile.torchscript_with_pickle_member(tmp_path, marker), "torchscript")]
    with launched(tmp_path, {"PATH": hidden, "DISTILLERY_AUTH_REQUIRED": "true"}) as (_launcher, port, env, log):
        assert "NO SANDBOX" in log.read_text() and "refused (503)" in log.read_text()
        key = subprocess.run([sys.executable, "-m", "distillery_cli.main", "admin", "create-key", "--tenant", "t"],
                             env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT / "clients" / "python"),
                                                                         str(ROOT)])},
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        headers = {"Authorization": f"Bearer {key}"}
        url = f"http://127.0.0.1:{port}/v1/teachers"
        for path, fmt in attacks:
            with open(path, "rb") as f:
                r = httpx.post(url, headers=headers, files={"file": (path.name, f)},
                               data={"name": "x", "input_shape": "[4]", "format": fmt}, timeout=60)
            assert r.status_code == 503, r.text
            assert "cannot run uploaded models safely" in r.json()["detail"]
            assert str(tmp_path) not in r.text
        assert httpx.get(url, headers=headers).json()["count"] == 0
    assert not marker.exists(), "a refused upload ran its code"
