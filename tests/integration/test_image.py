"""The Docker image, rehearsed without a Docker engine: the Dockerfile's own steps, in order, in a temporary
directory standing for its WORKDIR. Only what its COPY lines name is copied there; its RUN lines run there
(`pip install -e .` into a fresh virtual environment); then the image's entry points must work from it:
`distillery --help` (the CLI, with `distillery admin create-key` for a compose deployment's first key),
`alembic upgrade head` on SQLite, and importing the API app and the Celery app.

What stands in for the image's base: the fresh environment sees this test's own environment's site-packages
through a .pth file, as a base image's system site-packages would be seen, so that torch is not downloaded; pip
still installs the project itself, and the project's packages resolve only to the copied tree. Two kinds of RUN
line are skipped because they change the machine, not the tree: apt-get (bubblewrap) and useradd. The same
rehearsal on a Dockerfile with one COPY line removed must fail, which shows that it can.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_RUN = ("apt-get", "useradd")


class RehearsalFailed(AssertionError):
    pass


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^([A-Z]+)\s+(.*)$", text, re.M)]


def _run(step: str, args, cwd: Path, env: dict, timeout: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          shell=isinstance(args, str))
    if done.returncode != 0:
        raise RehearsalFailed(f"{step} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def rehearse(dockerfile: str, tmp: Path) -> dict[str, str]:
    """Builds the image's tree and environment under ``tmp`` and runs its entry points; raises RehearsalFailed."""
    workdir, venv, data = tmp / "srv", tmp / "venv", tmp / "data"
    data.mkdir()
    _run("python -m venv", [sys.executable, "-m", "venv", str(venv)], tmp, dict(os.environ))
    site = Path(_run("venv site-packages", [str(venv / "bin" / "python"), "-c",
                                            "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     tmp, dict(os.environ)).strip())
    (site / "_image_base.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DISTILLERY_", "PYTHON", "VIRTUAL_ENV", "PIP_NO_CACHE"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    cwd = None
    for op, arg in instructions(dockerfile):
        if op == "WORKDIR":
            cwd = workdir
            cwd.mkdir(parents=True)
        elif op == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", arg):
                if name != "PIP_NO_CACHE_DIR":  # pip's local cache may stand in for the network here
                    env[name] = value
        elif op == "COPY":
            *sources, dest = shlex.split(arg)
            for src in sources:
                target = cwd / dest / Path(src).name if dest.endswith("/") else cwd / dest
                if (ROOT / src).is_dir():
                    shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / src, target)
        elif op == "RUN" and not arg.startswith(SKIPPED_RUN):
            _run(f"RUN {arg[:60]}", arg, cwd, env, timeout=600)
    env["DISTILLERY_VAR_DIR"] = str(data)  # the image's /data
    out = {"help": _run("distillery --help", ["distillery", "--help"], cwd, env)}
    # `python -m alembic`: the base's packages bring no console scripts into the fresh environment's bin.
    out["alembic"] = _run("alembic upgrade head", ["python", "-m", "alembic", "upgrade", "head"], cwd, env)
    out["import"] = _run("import the apps", ["python", "-c", (
        "import app.main, worker.celery_app, distillery_cli.main, distillery_client; "
        "print(app.main.app.title, worker.celery_app.celery_app.main, app.main.__file__, "
        "distillery_cli.main.__file__)")], cwd, env)
    return out


def test_the_image_steps_install_a_working_service(tmp_path):
    out = rehearse((ROOT / "Dockerfile").read_text(), tmp_path)
    assert "admin" in out["help"] and "jobs" in out["help"]
    assert (tmp_path / "data" / "distillery.sqlite3").is_file()
    title, celery_name, app_file, cli_file = out["import"].split()[-4:]
    assert (title, celery_name) == ("Distillery", "distillery")
    srv = str(tmp_path / "srv")
    assert app_file.startswith(srv) and cli_file.startswith(srv)  # the copied tree, not this checkout


def test_a_dockerfile_missing_a_copy_line_fails_the_rehearsal(tmp_path):
    dockerfile = (ROOT / "Dockerfile").read_text()
    without = dockerfile.replace("COPY clients ./clients\n", "")
    assert without != dockerfile
    with pytest.raises(RehearsalFailed, match="distillery --help"):
        rehearse(without, tmp_path)
