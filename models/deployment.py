"""Measuring what a network costs to run: its parameters, and its latency and throughput on the CPU.

Every network of a job is measured here the same way, so that the ratios between them are fair: the same
input (a fixed pseudo-random batch), the same thread count, a warm-up first, then timed calls at batch 1
(latency percentiles) and at batch 64 (throughput). The batch-1 calls are timed in ``LATENCY_ROUNDS``
consecutive rounds of at least ``Timing.round_seconds`` each, and each percentile is the lowest of the
rounds' own: a call of some 10 µs is slowed by
whatever else the machine does, never sped up, so the quietest round is the figure that two measurements
at different moments (the report's, the user's) agree on. The teacher's measurement runs inside its sandbox
(``models.sandbox.child`` calls :func:`time_calls` on the loaded model), the students' in the worker.

A network of several inputs (a text model's ``input_ids`` and ``attention_mask``) is timed the same way:
each input is a :class:`NamedInput` (name, one sample's shape, dtype, the kind of values), and a call gets the
arrays positionally in their order. A plain shape stands for one float32 input, as every tensor network takes.

The number of calls is bounded, and so is the time spent: a slow network is timed on fewer calls rather
than holding the job, never fewer than ``MIN_CALLS``.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

LATENCY_BATCH = 1
THROUGHPUT_BATCH = 64
MIN_CALLS = 5
LATENCY_ROUNDS = 5
ROUND_SECONDS = 0.05
INPUT_SEED = 0


@dataclass(frozen=True)
class Timing:
    """How many calls of each kind to time, and the most seconds each kind may take."""

    warmup: int = 50
    latency_calls: int = 500
    throughput_calls: int = 10
    max_seconds: float = 2.0
    # each latency round goes on for at least this long (a job's report: ROUND_SECONDS): rounds of a few
    # milliseconds would all fall inside one busy spell of the machine, so that none of them is a quiet one
    round_seconds: float = 0.0


@dataclass(frozen=True)
class NamedInput:
    """One input of the networks timed. ``values``: ``normal`` (standard normal), ``ones`` (an attention mask
    with every position a token) or ``ids`` (token ids drawn from [0, vocab_size) but never ``pad_token_id``, so
    a network that derives its mask from the pad id sees the same all-ones mask as one given ``ones``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    values: str = "normal"
    vocab_size: int = 0
    pad_token_id: int | None = None


VALUES = ("normal", "ones", "ids")
DTYPES = ("float32", "int64")
MAX_SAMPLE_ELEMENTS = 1 << 22  # one sample of at most 4 Mi elements: a batch of 64 stays in memory
Inputs = tuple[NamedInput, ...]


def as_inputs(spec) -> Inputs:
    """``spec`` as named inputs: a shape (a list of ints) is the one float32 input every tensor network takes."""
    if all(isinstance(d, int) for d in spec):
        return (NamedInput("input", tuple(int(d) for d in spec)),)
    return tuple(spec)


def token_inputs(max_length: int, vocab_size: int, pad_token_id: int | None, *, mask: str | None = None) -> Inputs:
    """A text network's inputs: ids of ``max_length`` tokens (no padding), and the all-ones mask named ``mask``
    when the network takes one."""
    ids = NamedInput("input_ids", (int(max_length),), "int64", "ids", int(vocab_size), pad_token_id)
    return (ids,) if mask is None else (ids, NamedInput(mask, (int(max_length),), "int64", "ones"))


def _values(spec: NamedInput, batch: int) -> np.ndarray:
    rng = np.random.default_rng(INPUT_SEED)  # per input: the same spec gives the same values wherever it stands
    shape = (batch, *spec.shape)
    if spec.values == "ones":
        return np.ones(shape, dtype=spec.dtype)
    if spec.values == "ids":
        pad = spec.pad_token_id
        skip = pad is not None and 0 <= pad < spec.vocab_size
        ids = rng.integers(0, spec.vocab_size - int(skip), size=shape, dtype=np.int64)
        if skip:
            ids[ids >= pad] += 1  # every id but the pad one, so no position is masked out
        return ids.astype(spec.dtype)
    return rng.standard_normal(shape).astype(spec.dtype)


def sample_inputs(inputs, batch: int) -> tuple[np.ndarray, ...]:
    """The batch every network is timed on, one array per input: the same values for every network of a job."""
    return tuple(_values(spec, batch) for spec in as_inputs(inputs))


def sample_input(input_shape, batch: int) -> np.ndarray:
    """The one float32 input of a tensor network (``sample_inputs`` of its shape)."""
    return sample_inputs(input_shape, batch)[0]


def inputs_to_wire(inputs) -> list[dict]:
    """The inputs as JSON for the sandbox's measure request."""
    return [{**asdict(spec), "shape": list(spec.shape)} for spec in as_inputs(inputs)]


def inputs_from_wire(items) -> Inputs:
    """The inputs of a measure request, checked: the sandbox's child allocates what they say."""
    if not isinstance(items, list) or not 1 <= len(items) <= 16:
        raise ValueError("malformed inputs")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("malformed inputs")
        shape, vocab, pad = item.get("shape"), item.get("vocab_size", 0), item.get("pad_token_id")
        if (not isinstance(shape, list) or not all(isinstance(d, int) and 0 < d for d in shape)
                or int(np.prod(shape, dtype=np.int64)) > MAX_SAMPLE_ELEMENTS):
            raise ValueError("malformed input shape")
        if (not isinstance(item.get("name"), str) or len(item["name"]) > 200 or item.get("dtype") not in DTYPES
                or item.get("values") not in VALUES or not isinstance(vocab, int) or not 0 <= vocab < 1 << 31
                or (item["values"] == "ids" and (vocab < 2 or item["dtype"] != "int64"))
                or not (pad is None or isinstance(pad, int))):
            raise ValueError("malformed input")
        out.append(NamedInput(item["name"], tuple(shape), item["dtype"], item["values"], vocab, pad))
    return tuple(out)


def _timed(call: Callable[..., object], xs: tuple[np.ndarray, ...], calls: int, max_seconds: float) -> np.ndarray:
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < calls:
        t0 = time.perf_counter()
        call(*xs)
        times.append(time.perf_counter() - t0)
        if len(times) >= MIN_CALLS and time.perf_counter() - started > max_seconds:
            break
    return np.asarray(times)


def _latency_rounds(call: Callable[..., object], xs: tuple[np.ndarray, ...], timing: Timing) -> list[np.ndarray]:
    """``LATENCY_ROUNDS`` consecutive rounds of single calls, each of at least a share of
    ``timing.latency_calls`` and ``timing.round_seconds``; all of them stop once ``timing.max_seconds`` have
    passed (after ``MIN_CALLS`` calls), so that a slow network is timed on fewer calls."""
    rounds: list[np.ndarray] = []
    per_round, total, started = max(1, timing.latency_calls // LATENCY_ROUNDS), 0, time.perf_counter()
    for _ in range(LATENCY_ROUNDS):
        times: list[float] = []
        round_started = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            call(*xs)
            t1 = time.perf_counter()
            times.append(t1 - t0)
            total += 1
            if total >= MIN_CALLS and t1 - started > timing.max_seconds:
                return [*rounds, np.asarray(times)]
            if len(times) >= per_round and t1 - round_started >= timing.round_seconds:
                break
        rounds.append(np.asarray(times))
    return rounds


def time_calls(call: Callable[..., object], inputs, timing: Timing = Timing()) -> dict:
    """Latency percentiles at batch 1 and samples per second at batch 64 of ``call`` (one numpy array per
    input in, anything out), after ``timing.warmup`` untimed calls of each batch size. ``inputs``: a shape
    or named inputs (:func:`as_inputs`)."""
    small, large = sample_inputs(inputs, LATENCY_BATCH), sample_inputs(inputs, THROUGHPUT_BATCH)
    for _ in range(timing.warmup):
        call(*small)
    rounds = _latency_rounds(call, small, timing)
    for _ in range(max(1, timing.warmup // 5)):
        call(*large)
    throughput = _timed(call, large, timing.throughput_calls, timing.max_seconds)
    # a round cut short by max_seconds is too few calls to stand for a quiet spell
    usable = [r for r in rounds if len(r) >= MIN_CALLS] or [np.concatenate(rounds)]
    return {
        "latency_ms_p50": float(min(np.percentile(r, 50) for r in usable) * 1e3),
        "latency_ms_p90": float(min(np.percentile(r, 90) for r in usable) * 1e3),
        "samples_per_second": float(THROUGHPUT_BATCH / np.median(throughput)),
        "latency_calls": sum(len(r) for r in rounds),
        "throughput_calls": len(throughput),
    }


def onnx_session(path: Path, threads: int):
    """An ONNX Runtime CPU session with a fixed number of threads, as every ONNX network is measured."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_call(session, count: int = 1) -> Callable[..., object]:
    """The session called with ``count`` arrays, fed to its inputs in the file's order (a tensor student's one
    input may be named anything; a text student's are ``input_ids`` then ``attention_mask``)."""
    names = [i.name for i in session.get_inputs()]
    if len(names) != count:
        raise ValueError(f"the ONNX file takes {len(names)} input(s) ({', '.join(names)}); it was to be timed "
                         f"with {count}")
    return lambda *xs: session.run(None, dict(zip(names, xs, strict=True)))


def torch_call(module) -> Callable[..., object]:
    import torch

    def call(*xs: np.ndarray):
        with torch.inference_mode():
            return module(*(torch.from_numpy(x) for x in xs))

    return call


def torch_parameters(module) -> int:
    """Trainable-weight count of a torch module (buffers such as batch-norm statistics are not counted)."""
    return int(sum(p.numel() for p in module.parameters()))


def onnx_parameters(path: Path) -> int:
    """Weights an ONNX file holds: the elements of its floating-point initializers (an exporter may have folded
    batch norms into convolutions, so this can be below the source network's count)."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    floats = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}
    return int(sum(int(np.prod(t.dims, dtype=np.int64)) for t in proto.graph.initializer if t.data_type in floats))


def measure_onnx(path: Path, inputs, threads: int, timing: Timing = Timing()) -> dict:
    """The figures of an ONNX file run by ONNX Runtime on ``threads`` threads (parameters not included: an
    INT8 file's weights are integers, and the caller knows the network's count). ``inputs``: a shape or named
    inputs, in the file's input order."""
    inputs = as_inputs(inputs)
    figures = time_calls(onnx_call(onnx_session(path, threads), len(inputs)), inputs, timing)
    return {**figures, "runtime": runtime_name("onnxruntime"), "threads": threads}


def measure_torch(module, inputs, threads: int, timing: Timing = Timing()) -> dict:
    """The figures of a torch module on ``threads`` intra-op threads (the caller's thread setting is restored)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        figures = time_calls(torch_call(module.eval()), inputs, timing)
    finally:
        torch.set_num_threads(before)
    return {**figures, "runtime": runtime_name("torch"), "threads": threads}


def runtime_name(kind: str) -> str:
    """The runtime and its version, e.g. ``onnxruntime 1.23.2``."""
    if kind == "onnxruntime":
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__}"
    import torch

    return f"torch {torch.__version__}"


def timing_dict(timing: Timing) -> dict:
    return asdict(timing)
