"""Which of a teacher's outputs is distilled from, what kind of scores it holds, and how they become the
logits the engine works with.

Everyday classifiers do not all return logits: a scikit-learn model converted by skl2onnx returns a
``label`` and a ``probabilities`` output, and a "deploy-ready" network ends in softmax. Treating
probabilities as logits silently flattens ``softmax(p / T)`` towards uniform, so the kind is declared or
detected, and probabilities become log-probabilities before the temperature is applied:
``softmax(log p / T)`` is the softened distribution of Hinton et al. Log-probabilities differ from logits by
a constant per sample, which softmax ignores and logit matching removes by centring both sides.
"""

import math

import torch
from torch import nn

OUTPUT_KINDS = ("auto", "logits", "probabilities", "log_probabilities")
# log(0) must stay finite: a random forest gives exact zeros. At T = 2 a floored class gets e^-13.8 of the
# mass of a certain one, far below anything a student's accuracy can see.
PROBABILITY_FLOOR = 1e-12
LOG_FLOOR = math.log(PROBABILITY_FLOOR)
SUM_TOLERANCE = 1e-3  # float32 and float16 softmax rows sum to 1 within this
SIGN_TOLERANCE = 1e-6
FLOAT_DTYPES = ("float32", "float64", "float16", "bfloat16")


class TeacherOutputMismatch(RuntimeError):
    """The teacher's outputs on real samples contradict the kind declared or detected at upload."""


def _rows(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: is it a probability distribution, is it log-probabilities."""
    out = out.detach().double()
    finite = torch.isfinite(out).all(-1)
    probs = finite & (out.min(-1).values >= -SIGN_TOLERANCE) & ((out.sum(-1) - 1).abs() <= SUM_TOLERANCE)
    # -inf is log(0): a row with it is still log-probabilities
    nonpos = (out.nan_to_num(nan=1.0, neginf=LOG_FLOOR) <= SIGN_TOLERANCE).all(-1)
    log_probs = nonpos & ((torch.logsumexp(out.nan_to_num(nan=1.0), -1)).abs() <= SUM_TOLERANCE)
    return probs, log_probs


def detect_kind(out: torch.Tensor) -> str:
    """``probabilities`` when every row is non-negative and sums to 1, ``log_probabilities`` when every row
    is non-positive and its exponentials sum to 1, else ``logits``."""
    if out.numel() == 0:
        return "logits"
    probs, log_probs = _rows(out)
    if bool(probs.all()):
        return "probabilities"
    if bool(log_probs.all()):
        return "log_probabilities"
    return "logits"


def mismatch(out: torch.Tensor, kind: str) -> str | None:
    """Why these outputs are not of ``kind``, or None when they may be. Logits are contradicted only when
    every row of the batch is a probability (or log-probability) distribution."""
    if out.numel() == 0:
        return None
    probs, log_probs = _rows(out)
    if kind == "probabilities" and not bool(probs.all()):
        row = int((~probs).nonzero()[0])
        values = out[row].detach().double()
        return (f"row {row} of a batch is not a probability distribution (its values run from "
                f"{float(values.min()):.4g} to {float(values.max()):.4g} and sum to {float(values.sum()):.4g})")
    if kind == "log_probabilities" and not bool(log_probs.all()):
        row = int((~log_probs).nonzero()[0])
        values = out[row].detach().double()
        return (f"row {row} of a batch is not log-probabilities (its largest value is {float(values.max()):.4g} "
                f"and its exponentials sum to {float(values.exp().sum()):.4g})")
    if kind == "logits" and out.shape[0] > 1:
        if bool(probs.all()):
            return "every row of a batch is non-negative and sums to 1: these are probabilities, not logits"
        if bool(log_probs.all()):
            return "every row of a batch is non-positive with exponentials summing to 1: these are log-probabilities"
    return None


def as_logits(out: torch.Tensor, kind: str) -> torch.Tensor:
    """Scores the engine can treat as logits: ``softmax`` of them at T is the teacher's softened distribution."""
    out = out.float()
    if kind == "probabilities":
        return out.clamp(min=PROBABILITY_FLOOR).log()
    if kind == "log_probabilities":
        return out.nan_to_num(neginf=LOG_FLOOR).clamp(min=LOG_FLOOR)
    return out


class ScoredTeacher(nn.Module):
    """A teacher whose declared output kind is checked on every batch it scores (the teacher pass runs on the
    real transfer set, where a decision made on the upload's zero batches can be wrong) and whose scores
    come out as logits. A contradiction fails the job: never a silently wrong distillation."""

    def __init__(self, teacher: nn.Module, kind: str, name: str):
        super().__init__()
        self.teacher, self.kind, self.name = teacher, kind, name

    def train(self, mode: bool = True) -> "ScoredTeacher":
        self.training = mode
        self.teacher.train(mode)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.teacher(x)
        problem = mismatch(out, self.kind)
        if problem is not None:
            fix = "logits" if self.kind != "logits" else detect_kind(out)
            raise TeacherOutputMismatch(
                f"teacher {self.name} was taken to return {self.kind}, but on the transfer set {problem}; "
                f"upload it again with output_kind={fix}, or pick another output with 'output'")
        return as_logits(out, self.kind)

    def close(self) -> None:
        close = getattr(self.teacher, "close", None)
        if close is not None:
            close()


# -- choosing the output --------------------------------------------------------------------------------------

def describe(entries: list[dict]) -> str:
    return ", ".join(f"{e['name']!r} shaped {e.get('shape')} of {e.get('dtype')}" for e in entries)


def _is_scores(entry: dict, batch: int) -> bool:
    shape = entry.get("shape")
    return (entry.get("dtype") in FLOAT_DTYPES and isinstance(shape, list) and len(shape) == 2
            and shape[0] == batch and shape[1] >= 2)


def choose_output(entries: list[dict], requested: str | None, batch: int) -> str | None:
    """The name of the output to distil from, given what the teacher returned for a batch of ``batch``:
    ``requested`` (a name, or an index), or else the one float output shaped [batch, classes]. None: the
    teacher has a single output and none was asked for (it is checked as the teacher's logits are).
    Raises ValueError with the message for the user."""
    if requested is not None:
        by_name = [e for e in entries if e["name"] == requested]
        if not by_name and requested.isdigit() and int(requested) < len(entries):
            by_name = [entries[int(requested)]]
        if not by_name:
            raise ValueError(f"the teacher has no output {requested!r}; it returns {describe(entries)}")
        chosen = by_name[0]
        if not _is_scores(chosen, batch):
            raise ValueError(f"output {chosen['name']!r} is shaped {chosen.get('shape')} of {chosen.get('dtype')} "
                             f"for a batch of {batch}; distillation needs a float output shaped [batch, classes]")
        return chosen["name"]
    candidates = [e for e in entries if _is_scores(e, batch)]
    if len(candidates) == 1 and len(entries) > 1:
        return candidates[0]["name"]
    if len(candidates) > 1:
        raise ValueError(f"the teacher has {len(candidates)} outputs shaped [batch, classes]: "
                         f"{describe(candidates)}; name the one to distil from in 'output'")
    labels = [e for e in entries if e.get("dtype") not in FLOAT_DTYPES and isinstance(e.get("shape"), list)
              and e["shape"][:1] == [batch] and len(e["shape"]) <= 2]
    if not candidates and labels and len(labels) == len(entries):
        raise ValueError(f"the teacher returns only class labels ({describe(labels)}), no scores to distil from; "
                         "export it with its probabilities or logits as an output (skl2onnx: convert a classifier "
                         "that has predict_proba, with options={'zipmap': False})")
    if len(entries) > 1:
        raise ValueError(f"none of the teacher's outputs is shaped [batch, classes]: it returns {describe(entries)}")
    return None


# -- reading a model's outputs (in the sandbox) ---------------------------------------------------------------

def _dtype_name(value) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return type(value).__name__
    name = str(dtype).removeprefix("torch.")
    return "string" if name in ("object", "<U", "|S") or name.startswith(("<U", "|S", "object")) else name


def output_entries(out, names: list[str] | None = None) -> list[tuple[str, object]]:
    """A forward pass's outputs, named: ONNX's output names, a dict's keys, or positions ("0", "1", ...)."""
    if isinstance(out, dict):
        return [(str(k), v) for k, v in out.items()]
    items = list(out) if isinstance(out, tuple | list) else [out]
    if not names or len(names) != len(items):
        names = [str(i) for i in range(len(items))]
    return list(zip(names, items, strict=True))


def entry_descriptions(out, names: list[str] | None = None) -> list[dict]:
    return [{"name": name, "shape": list(v.shape) if hasattr(v, "shape") else None, "dtype": _dtype_name(v)}
            for name, v in output_entries(out, names)]


def select_output(out, names: list[str] | None, selection: str | None):
    """The output chosen at upload (None: the only one, as before outputs could be chosen)."""
    if selection is None:
        if isinstance(out, tuple | list) and len(out) == 1:
            return out[0]
        return out
    for name, value in output_entries(out, names):
        if name == selection:
            return value
    raise ValueError(f"the teacher no longer returns an output {selection!r}")
