"""Measuring what a network costs to run: its parameters, and its latency and throughput on the CPU.

Every network of a job is measured here the same way, so that the ratios between them are fair: the same
input (a fixed pseudo-random batch), the same thread count, a warm-up first, then timed calls at batch 1
(latency percentiles) and at batch 64 (throughput). The batch-1 calls are timed in ``LATENCY_ROUNDS``
consecutive rounds and each percentile is the lowest of the rounds' own: a call of some 10 µs is slowed by
whatever else the machine does, never sped up, so the quietest round is the figure that two measurements
at different moments (the report's, the user's) agree on. The teacher's measurement runs inside its sandbox
(``models.sandbox.child`` calls :func:`time_calls` on the loaded model), the students' in the worker.

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
INPUT_SEED = 0


@dataclass(frozen=True)
class Timing:
    """How many calls of each kind to time, and the most seconds each kind may take."""

    warmup: int = 50
    latency_calls: int = 500
    throughput_calls: int = 10
    max_seconds: float = 2.0


def sample_input(input_shape, batch: int) -> np.ndarray:
    """The batch every network is timed on: the same values for every network of a job."""
    rng = np.random.default_rng(INPUT_SEED)
    return rng.standard_normal((batch, *input_shape)).astype(np.float32)


def _timed(call: Callable[[np.ndarray], object], x: np.ndarray, calls: int, max_seconds: float) -> np.ndarray:
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < calls:
        t0 = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - t0)
        if len(times) >= MIN_CALLS and time.perf_counter() - started > max_seconds:
            break
    return np.asarray(times)


def time_calls(call: Callable[[np.ndarray], object], input_shape, timing: Timing = Timing()) -> dict:
    """Latency percentiles at batch 1 and samples per second at batch 64 of ``call`` (numpy in, anything
    out), after ``timing.warmup`` untimed calls of each batch size."""
    small, large = sample_input(input_shape, LATENCY_BATCH), sample_input(input_shape, THROUGHPUT_BATCH)
    for _ in range(timing.warmup):
        call(small)
    latency = _timed(call, small, timing.latency_calls, timing.max_seconds)
    for _ in range(max(1, timing.warmup // 5)):
        call(large)
    throughput = _timed(call, large, timing.throughput_calls, timing.max_seconds)
    rounds = np.array_split(latency, min(LATENCY_ROUNDS, len(latency) // MIN_CALLS) or 1)
    return {
        "latency_ms_p50": float(min(np.percentile(r, 50) for r in rounds) * 1e3),
        "latency_ms_p90": float(min(np.percentile(r, 90) for r in rounds) * 1e3),
        "samples_per_second": float(THROUGHPUT_BATCH / np.median(throughput)),
        "latency_calls": len(latency),
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


def onnx_call(session) -> Callable[[np.ndarray], object]:
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def torch_call(module) -> Callable[[np.ndarray], object]:
    import torch

    def call(x: np.ndarray):
        with torch.inference_mode():
            return module(torch.from_numpy(x))

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


def measure_onnx(path: Path, input_shape, threads: int, timing: Timing = Timing()) -> dict:
    """The figures of an ONNX file run by ONNX Runtime on ``threads`` threads (parameters not included: an
    INT8 file's weights are integers, and the caller knows the network's count)."""
    figures = time_calls(onnx_call(onnx_session(path, threads)), input_shape, timing)
    return {**figures, "runtime": runtime_name("onnxruntime"), "threads": threads}


def measure_torch(module, input_shape, threads: int, timing: Timing = Timing()) -> dict:
    """The figures of a torch module on ``threads`` intra-op threads (the caller's thread setting is restored)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        figures = time_calls(torch_call(module.eval()), input_shape, timing)
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
