"""How a sandboxed model's process is started: the bubblewrap command line, and whether it works here.

The sandbox sees the Python installation read-only, the ``models`` package, the one model file, and a
small private ``/tmp``; no network, no other process, none of the service's files, variables or
credentials. It runs as ``nobody`` (65534) when the service runs as root, and otherwise as the service's
own unprivileged user inside a user namespace.
"""

import functools
import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import models

NOBODY = 65534
CODE_ROOT = "/opt/distillery"
MODEL_DIR = "/job"
SUFFIXES = {"torchscript": ".pt", "exported_program": ".pt2", "onnx": ".onnx",  # the loaders look at them
            "huggingface": ".archive"}  # a zip or tar.gz of a save_pretrained folder, unpacked by the child


def usable_cores() -> int:
    """The cores this process may run on; macOS has no affinity call, so there it is all of them."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class SandboxUnavailable(RuntimeError):
    """The operator asked for a sandbox and this machine cannot make one."""


@dataclass(frozen=True)
class SandboxPolicy:
    mode: Literal["bwrap", "process"] = "bwrap"  # process: a plain child process, no isolation
    memory_bytes: int = 8 * 1024**3
    cpu_seconds: int = 24 * 3600
    call_seconds: float = 600.0  # wall clock for one request (starting and loading included)
    scratch_bytes: int = 256 * 1024**2
    threads: int = 0  # 0: the cores this process may use
    checks: bool = True  # static checks, the operator allow-list and the no-pickle guard
    max_classes: int = 100_000

    @property
    def thread_count(self) -> int:
        return self.threads or usable_cores()


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    seen, made = {"/usr"}, set()
    for prefix in sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
                         | {sys.prefix}):
        if any(prefix == s or prefix.startswith(s + "/") for s in seen):
            continue
        # bwrap would make the missing parents readable by root alone
        for parent in reversed(Path(prefix).parents[:-1]):
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", prefix, prefix]
        seen.add(prefix)
    return args


def _gpu_binds(device: str) -> list[str]:
    if not device.startswith("cuda"):
        return []
    args = []
    for node in sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/*")):
        args += ["--dev-bind", node, node]
    return args


def command(policy: SandboxPolicy, model: Path, fmt: str, device: str,
            model_fd: int | None = None) -> tuple[list[str], dict, str | None]:
    """The argv, environment and working directory that run ``models.sandbox.child`` on ``model``. In the
    sandbox the model is a copy read from ``model_fd`` (inherited by bwrap), so the unprivileged user
    needs no right to the service's files."""
    threads = str(policy.thread_count)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": threads,
           "MKL_NUM_THREADS": threads, "LANG": "C.UTF-8", "TORCHINDUCTOR_CACHE_DIR": "/tmp/inductor",
           # text teachers: transformers never reaches for the hub, and keeps its cache in the private /tmp
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": "/tmp/hf"}
    inside = MODEL_DIR + "/teacher" + SUFFIXES.get(fmt, "")
    code_parent = str(Path(models.__file__).resolve().parent.parent)
    child = lambda path: [sys.executable, "-s", "-B", "-m", "models.sandbox.child", path, fmt, device, threads,  # noqa: E731
                          "1" if policy.checks else "0", str(policy.memory_bytes), str(policy.cpu_seconds),
                          str(policy.scratch_bytes)]
    if policy.mode == "process":
        return child(str(model)), env, code_parent
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(policy.scratch_bytes), "--tmpfs", "/tmp",
             *_system_binds(), *_gpu_binds(device),
             # made readable by nobody whatever the service's umask
             "--perms", "0755", "--dir", CODE_ROOT, "--perms", "0755", "--dir", MODEL_DIR,
             "--ro-bind", str(Path(models.__file__).resolve().parent), CODE_ROOT + "/models",
             *(["--perms", "0444", "--ro-bind-data", str(model_fd), inside] if model_fd is not None
               else ["--ro-bind", str(Path(model).resolve()), inside]),
             "--chdir", CODE_ROOT]
    if os.geteuid() == 0:
        # Root makes the namespaces and mounts, then the model runs as nobody with no capabilities.
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs",
                "--bounding-set=-all", "--inh-caps=-all"]
        return args + ["--", *drop, *child(inside)], {}, None
    return args + ["--unshare-user", "--", *child(inside)], {}, None


@functools.lru_cache
def sandbox_problem() -> str | None:
    """Why no sandbox can be made on this machine, or None when bubblewrap works."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed; install the Debian package 'bubblewrap'"
    if shutil.which("setpriv") is None and os.geteuid() == 0:
        return "setpriv (util-linux) is not installed"
    probe = SandboxPolicy(threads=1)
    argv, _, _ = command(probe, Path(os.devnull), "none", "cpu")
    argv = argv[:argv.index("-m")] + ["-c", "import os, socket; socket.socket().close(); print(os.getuid())"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox ({type(exc).__name__})"
    if done.returncode != 0:
        return f"bubblewrap could not start a sandbox: {done.stderr.strip()[:300]}"
    if os.geteuid() == 0 and done.stdout.strip() != str(NOBODY):
        return "the sandboxed process did not run as an unprivileged user"
    return None
