"""A tenant's teacher as an ``nn.Module`` whose forward pass runs in a sandboxed child process.

The engine treats it like any teacher: batches go in over a pipe (in the teacher's input dtype) and the
chosen output's scores come back,
checked for shape and size before they are read. The child starts on the first use (a job whose teacher
outputs are cached never starts one) and is killed when the module is closed or collected.
"""

import collections
import logging
import os
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.bounded import ParseFailed, ParseLimitExceeded, ParseLimits, run_bounded
from models.inspection import ModelRefused, refused_operators
from models.sandbox.jail import SandboxPolicy, SandboxUnavailable, command, sandbox_problem
from models.sandbox.protocol import ProtocolError, Reader, Timeout, array_from, array_payload, encode
from models.teacher_outputs import OUTPUT_KINDS, choose_output, detect_kind, mismatch
from models.teachers import TeacherInvalid, load_teacher, probe_teacher

SANDBOXED_FORMATS = ("torchscript", "exported_program", "onnx", "huggingface")
log = logging.getLogger(__name__)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _drain(stream, into: collections.deque) -> None:
    for line in iter(stream.readline, b""):
        into.append(line.decode("utf-8", "replace")[:500])


class SandboxedTeacher(nn.Module):
    def __init__(self, path: Path, fmt: str, policy: SandboxPolicy, *, device: str = "cpu",
                 output: str | None = None, input_dtype: str = "float32"):
        super().__init__()
        self.path, self.fmt, self.policy, self.device_name = Path(path), fmt, policy, device
        self.output, self.input_dtype = output, input_dtype  # the output distilled from (None: the only one)
        self._proc: subprocess.Popen | None = None
        self._reader: Reader | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._finalizer = None
        self.fixed_batch: int | None = None  # the graph's one batch size, when it has one

    def train(self, mode: bool = True) -> "SandboxedTeacher":
        self.training = mode  # the mode the file was saved in is the one it runs in
        return self

    def start(self) -> list[str]:
        """Start the child and load the model; returns the operators its graphs call."""
        if self.policy.mode == "bwrap":
            problem = sandbox_problem()
            if problem is not None:
                raise SandboxUnavailable(problem)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            argv, env, cwd = command(self.policy, self.path, self.fmt, self.device_name,
                                     fd if self.policy.mode == "bwrap" else None)
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True,
                                          pass_fds=(fd,))
        finally:
            os.close(fd)
        self._finalizer = weakref.finalize(self, _kill, self._proc)
        self._reader = Reader(self._proc.stdout.fileno())
        # The thread holds the stream and the deque, never the module: the module's collection ends the child.
        threading.Thread(target=_drain, args=(self._proc.stderr, self._stderr), daemon=True).start()
        header, _ = self._request({"op": "load"}, max_payload=0)
        ops = header.get("ops")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops) or len(ops) > 100_000:
            raise TeacherInvalid("the teacher's process answered with a malformed operator list")
        batch = header.get("fixed_batch")
        self.fixed_batch = batch if isinstance(batch, int) and 0 < batch <= 1_000_000 else None
        if self.policy.checks:
            refused = refused_operators(set(ops))
            if refused:
                self.close()
                raise ModelRefused(f"the teacher calls operators a teacher may not use: {', '.join(refused[:10])} "
                                   "(file, process, network or custom operators); export the network without them")
        return ops

    def _request(self, header: dict, payload: bytes = b"", *, max_payload: int, check=None) -> tuple[dict, bytes]:
        deadline = time.monotonic() + self.policy.call_seconds
        try:
            self._proc.stdin.write(encode(header, payload))
            self._proc.stdin.flush()
            answer, data = self._reader.receive(max_payload=max_payload, deadline=deadline, check=check)
        except Timeout:
            self.close()
            raise TeacherInvalid(f"the teacher did not answer within {self.policy.call_seconds:g} s "
                                 "(the sandbox's time limit)") from None
        except (EOFError, BrokenPipeError, OSError, ProtocolError) as exc:
            reason = self._death(exc)
            self.close()
            raise TeacherInvalid(reason) from None
        if not answer.get("ok"):
            message = str(answer.get("error", "the teacher failed"))[:2000]
            if answer.get("kind") == "TeacherInvalid":
                raise TeacherInvalid(message)
            if answer.get("kind") == "ModelRefused":
                raise ModelRefused(message)
            raise TeacherInvalid(f"the teacher's forward pass failed: {message}"
                                 if header.get("op") in ("forward", "describe") else message)
        return answer, data

    def _death(self, exc: Exception) -> str:
        if isinstance(exc, ProtocolError):
            return f"the teacher's process broke the protocol ({exc})"
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        limits = (f"it may have exceeded the sandbox's limits of {self.policy.memory_bytes // 2**20} MiB of memory "
                  f"or {self.policy.cpu_seconds} s of CPU time")
        log.warning("sandboxed teacher ended (exit code %s); its last output: %s", code, "".join(self._stderr))
        if code is not None and code < 0:
            return f"the teacher's process was ended by signal {-code}; {limits}"
        return f"the teacher's process ended unexpectedly (exit code {code}); {limits}"

    def describe(self, x: torch.Tensor) -> list[dict]:
        """Every output the model returns for ``x``: name, shape and dtype."""
        if self._proc is None:
            self.start()
        shape, payload = array_payload(x.detach().cpu().numpy(), self.input_dtype)
        answer, _ = self._request({"op": "describe", "shape": shape, "dtype": self.input_dtype}, payload,
                                  max_payload=0)
        outputs = answer.get("outputs")
        if not isinstance(outputs, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str)
                                                    for o in outputs):
            raise TeacherInvalid("the teacher's process answered with a malformed list of outputs")
        return [{"name": o["name"][:200], "shape": o.get("shape") if isinstance(o.get("shape"), list) else None,
                 "dtype": str(o.get("dtype"))[:40]} for o in outputs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._proc is None:
            self.start()
        rows = int(x.shape[0])
        shape, payload = array_payload(x.detach().cpu().numpy(), self.input_dtype)

        def check(answer: dict) -> None:
            out = answer.get("shape")
            if not answer.get("ok"):
                return
            if not (isinstance(out, list) and len(out) == 2 and out[0] == rows and isinstance(out[1], int)):
                self.close()
                raise TeacherInvalid(f"the teacher must return logits shaped [batch, classes]; for a batch "
                                     f"shaped {shape} it returned {out}")
            if not 1 <= out[1] <= self.policy.max_classes:
                self.close()
                raise TeacherInvalid(f"the teacher returns {out[1]} classes; at most {self.policy.max_classes} "
                                     "are accepted")

        answer, data = self._request({"op": "forward", "shape": shape, "dtype": self.input_dtype,
                                      "output": self.output}, payload,
                                     max_payload=rows * self.policy.max_classes * 4, check=check)
        logits = torch.from_numpy(np.array(array_from(answer["shape"], data)))
        return logits.to(x.device)

    def measure(self, inputs, timing: dict) -> dict:
        """The teacher's parameters, latency and throughput, timed inside the sandbox (models.deployment) on
        ``inputs``: its input shape, or named inputs (a Hugging Face teacher's token ids).
        The answer is the tenant's process's: only bounded numbers of the expected kinds are kept."""
        from models.deployment import inputs_to_wire

        if self._proc is None:
            self.start()
        answer, _ = self._request({"op": "measure", "inputs": inputs_to_wire(inputs), "timing": timing},
                                  max_payload=0)
        figures, parameters = answer.get("figures"), answer.get("parameters")
        names = ("latency_ms_p50", "latency_ms_p90", "samples_per_second")
        if (not isinstance(figures, dict) or not all(_finite(figures.get(k)) for k in names)
                or not isinstance(parameters, int) or not 0 <= parameters < 1 << 48
                or answer.get("runtime") not in ("onnxruntime", "torch")):
            raise TeacherInvalid("the teacher's process answered the measurement with malformed figures")
        threads = answer.get("threads")
        return {"parameters": parameters, **{k: float(figures[k]) for k in names},
                **{k: int(figures[k]) for k in ("latency_calls", "throughput_calls") if _finite(figures.get(k))},
                "runtime": answer["runtime"], "threads": threads if isinstance(threads, int) else None}

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._proc = None


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e12


def open_teacher(path: Path, fmt: str, policy: SandboxPolicy, *, arch: str | None = None,
                 arch_config: dict | None = None, input_shape=None, device: str = "cpu", output: str | None = None,
                 input_dtype: str = "float32") -> nn.Module:
    """A teacher ready for the engine. A safetensors state dict holds no code and is built from the zoo
    here; every other format runs in the sandbox."""
    if fmt not in SANDBOXED_FORMATS:
        return load_teacher(path, fmt, arch=arch, arch_config=arch_config, input_shape=input_shape,
                            input_dtype=input_dtype)
    return SandboxedTeacher(path, fmt, policy, device=device, output=output, input_dtype=input_dtype)


@dataclass(frozen=True)
class Probed:
    num_classes: int
    fixed_batch: int | None = None  # the graph runs on this batch size only; it is run in chunks of it
    output: str | None = None  # the output distilled from; None: the teacher's only one
    output_kind: str = "logits"  # what that output holds, as declared or as detected on the probe batches


def check_in_child(path: Path, fmt: str, limits: ParseLimits) -> None:
    """The static checks of ``models.inspection``, in a child with memory and CPU limits of its own: an
    archive built to make them slow or large hurts that child, not the caller."""
    try:
        run_bounded("check_model", {"path": str(path), "fmt": fmt}, limits)
    except (ParseLimitExceeded, ParseFailed) as exc:
        raise ModelRefused(str(exc)) from None


def probe_in_sandbox(path: Path, fmt: str, input_shape: list[int], policy: SandboxPolicy, *,
                     arch: str | None = None, arch_config: dict | None = None, output: str | None = None,
                     output_kind: str = "auto", input_dtype: str = "float32",
                     limits: ParseLimits | None = None) -> Probed:
    """Check an uploaded teacher and return its number of classes, the output to distil from and its kind:
    its bytes first (in a bounded child), then its operators and zero batches of sizes 2 and 3 in the
    sandbox (safetensors teachers are built and run here)."""
    from models.input_dtypes import torch_dtype

    if output_kind not in OUTPUT_KINDS:
        raise TeacherInvalid(f"unknown output_kind {output_kind!r}; use one of: {', '.join(OUTPUT_KINDS)}",
                             "output_kind")
    if fmt not in SANDBOXED_FORMATS:
        model = load_teacher(path, fmt, arch=arch, arch_config=arch_config, input_shape=input_shape,
                             input_dtype=input_dtype)
        if output not in (None, "0"):
            raise TeacherInvalid(f"a {fmt} teacher built from the zoo has one output, its logits; drop 'output'",
                                 "output")
        seen: list[torch.Tensor] = []
        classes = probe_teacher(model, input_shape, input_dtype, seen)
        return Probed(classes, output_kind=_kind(output_kind, seen))
    if policy.checks and fmt != "huggingface":  # a Hugging Face folder is checked by models.text.hf_folder
        check_in_child(path, fmt, limits or ParseLimits())
    teacher = SandboxedTeacher(path, fmt, policy, input_dtype=input_dtype)
    try:
        teacher.start()
        n = teacher.fixed_batch or 2
        zeros = torch.zeros((n, *input_shape), dtype=torch_dtype(input_dtype))
        try:  # its own failures (a forward pass that fails) are the file's, not 'output''s
            outputs = teacher.describe(zeros)
        except TeacherInvalid as exc:
            if "aten::embedding" in str(exc) and input_dtype.startswith("float"):
                raise TeacherInvalid(f"{exc}; a teacher that embeds ids takes integer inputs: upload it with "
                                     "input_dtype=int64", "input_dtype") from None
            raise
        try:
            chosen = choose_output(outputs, output, n)
        except ValueError as exc:
            raise TeacherInvalid(str(exc), "output") from None
        teacher.output = chosen
        seen = []
        classes = probe_teacher(teacher, input_shape, input_dtype, seen)
        return Probed(classes, teacher.fixed_batch, chosen, _kind(output_kind, seen))
    finally:
        teacher.close()


def _kind(requested: str, seen: list[torch.Tensor]) -> str:
    """The declared kind, checked where the probe batches can contradict it, or the detected one."""
    out = torch.cat(seen)
    if requested == "auto":
        return detect_kind(out)
    if requested != "logits" and (problem := mismatch(out, requested)) is not None:
        raise TeacherInvalid(f"output_kind is {requested!r}, but on the upload's zero batches {problem}; "
                             "declare the kind the output holds, or leave output_kind at 'auto'", "output_kind")
    return requested
