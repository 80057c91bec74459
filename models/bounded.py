"""Reading a tenant's file in a child process with memory and CPU limits of its own.

A small upload can decode to gigabytes (a deflated array, a PNG of 36 megapixels, a JSON config of a
million members) or cost minutes of CPU (pickles of 64 MiB read opcode by opcode). However carefully each
parser bounds what it reads, a bound missed must hurt one child, not the API: the child sets its limits
before it imports a parser, answers one JSON result on its own stdout, and exits. It sees no variable of
the service (no database or store credentials), and nothing it returns is unpickled.
"""

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import models

log = logging.getLogger(__name__)

# What a child may be asked to run, and the errors it may hand back by name (each keeps its message,
# which the parsers write for the tenant). Anything else that fails in the child is a ParseFailed.
TASKS = {
    "check_model": ("models.inspection", "check_file"),
    "npz_summary": ("models.npz_summary", "summarise_npz"),
    "image_summary": ("models.image_limits", "summarise_images"),
}
ERRORS = {
    "ModelRefused": ("models.inspection", "ModelRefused"),
    "TransferSetInvalid": ("models.transfer_sets", "TransferSetInvalid"),
    "TransferSetTooLarge": ("models.transfer_sets", "TransferSetTooLarge"),
    "ArchiveInvalid": ("models.archives", "ArchiveInvalid"),
    "ArchiveTooLarge": ("models.archives", "ArchiveTooLarge"),
}
MAX_ANSWER_BYTES = 16 * 1024**2


@dataclass(frozen=True)
class ParseLimits:
    memory_bytes: int = 3 * 1024**3  # RLIMIT_DATA: the heap and every private mapping
    cpu_seconds: int = 60  # RLIMIT_CPU
    wall_seconds: float = 300.0  # the child is killed after this long, whatever it is doing


class ParseLimitExceeded(ValueError):
    """Reading the file took more memory, CPU or time than a check may; the message says which."""


class ParseFailed(ValueError):
    """The child failed in a way none of the parsers foresaw; the file is refused, the cause is logged."""


def _child_env() -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _exceeded(limits: ParseLimits, what: str) -> ParseLimitExceeded:
    return ParseLimitExceeded(
        f"reading the file needed more than {what} (at most {limits.memory_bytes // 2**20} MiB of memory and "
        f"{limits.cpu_seconds} s of CPU time, DISTILLERY_PARSE_MEMORY_BYTES and DISTILLERY_PARSE_CPU_SECONDS); "
        "upload a smaller file, or one that decodes to less")


def run_bounded(task: str, kwargs: dict, limits: ParseLimits):
    """``TASKS[task](**kwargs)`` in a limited child; returns its JSON result or raises its error."""
    if task not in TASKS:
        raise KeyError(task)
    argv = [sys.executable, "-s", "-B", "-m", "models.bounded_child", task, str(limits.memory_bytes),
            str(limits.cpu_seconds)]
    cwd = str(Path(models.__file__).resolve().parent.parent)
    try:
        done = subprocess.run(argv, input=json.dumps(kwargs).encode(), capture_output=True, env=_child_env(),
                              cwd=cwd, timeout=limits.wall_seconds, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise _exceeded(limits, f"{limits.wall_seconds:g} s of wall-clock time") from None
    if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise _exceeded(limits, f"{limits.cpu_seconds} s of CPU time")
    try:
        answer = json.loads(done.stdout[:MAX_ANSWER_BYTES]) if done.returncode == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        log.warning("bounded %s child ended with code %s: %s", task, done.returncode,
                    done.stderr[-2000:].decode("utf-8", "replace"))
        if done.returncode != 0 and b"MemoryError" in done.stderr[-4000:]:
            raise _exceeded(limits, f"{limits.memory_bytes // 2**20} MiB of memory")
        raise ParseFailed("the file could not be read (its check ended unexpectedly); check that it is a file of "
                          "the declared kind")
    if answer.get("ok"):
        return answer.get("result")
    kind, message = str(answer.get("error")), str(answer.get("message", ""))[:4000]
    if kind == "MemoryError":
        raise _exceeded(limits, f"{limits.memory_bytes // 2**20} MiB of memory")
    if kind in ERRORS:
        module, name = ERRORS[kind]
        raise getattr(importlib.import_module(module), name)(message)
    log.warning("bounded %s child failed with %s: %s", task, kind, message[:500])
    raise ParseFailed(f"the file could not be read ({kind}); check that it is a file of the declared kind")


def child_main(argv: list[str]) -> int:
    """The child's side: limits first, then the parser, then one answer on the original stdout."""
    import resource

    task, memory, cpu = argv
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, never into the answer
    for which, value in ((resource.RLIMIT_DATA, int(memory)), (resource.RLIMIT_CPU, int(cpu)),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    kwargs = json.loads(sys.stdin.read())
    module, name = TASKS[task]
    try:
        result = getattr(importlib.import_module(module), name)(**kwargs)
        answer = {"ok": True, "result": result}
    except MemoryError:
        answer = {"ok": False, "error": "MemoryError"}
    except Exception as exc:  # noqa: BLE001 - reported by name; the parent decides what it means
        answer = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    channel.write(json.dumps(answer))
    channel.flush()
    return 0
