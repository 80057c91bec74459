"""The README's walkthrough, run as written against `python -m app.launch` (what `make run` starts)."""

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.integration.stack import ROOT, base_env, free_port

pytestmark = pytest.mark.slow


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S)
    assert block, "the README has no walkthrough block"
    return block.group(1)


def test_readme_walkthrough_runs_as_written_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = base_env(tmp_path / "var")
    env["PORT"] = str(port)
    log = open(tmp_path / "launch.log", "wb")  # noqa: SIM115
    launcher = subprocess.Popen([sys.executable, "-m", "app.launch"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert launcher.poll() is None, (tmp_path / "launch.log").read_text()
            if "API docs at" in (tmp_path / "launch.log").read_text():
                break
            time.sleep(0.5)
        else:
            pytest.fail("make run did not announce the docs URL\n" + (tmp_path / "launch.log").read_text())

        workdir = tmp_path / "user"
        workdir.mkdir()
        (workdir / ".venv").symlink_to(ROOT / ".venv")
        shell_env = {**os.environ, "API": f"http://127.0.0.1:{port}"}
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=workdir, env=shell_env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "launch.log").read_text()[-4000:]
        assert re.search(r"^succeeded 60/60$", done.stdout, re.M), done.stdout
        accuracy = float(re.search(r"test accuracy ([0-9.]+)", done.stdout).group(1))
        assert accuracy >= 0.9
        assert (workdir / "student.pt").stat().st_size > 0
    finally:
        os.kill(launcher.pid, signal.SIGINT)  # what Ctrl-C sends
        code = launcher.wait(timeout=60)
    assert code == 0, (tmp_path / "launch.log").read_text()[-3000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    leftover = subprocess.run(["pgrep", "-f", f"distillery-{launcher.pid}@"], capture_output=True, text=True)
    assert leftover.stdout == "", "the worker outlived make run"
