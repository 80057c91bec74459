"""The INT8 student: ONNX Runtime static quantization of the fp32 ONNX student, calibrated on transfer-set
samples, and how much it agrees with the fp32 file.

Weights become per-tensor int8 (symmetric) and activations int8 with scales from the calibration samples (QDQ format,
which every ONNX runtime reads). The closing softmax stays in float: its probabilities quantized to 256 levels
would tie the top classes of confident predictions.
"""

import json
from pathlib import Path

import numpy as np

from models.deployment import onnx_session

CALIBRATION_SAMPLES = 256
CALIBRATION_BATCH = 32
CALIBRATION_SEED = 0
QUANTIZED_OPS = ["Conv", "Gemm", "MatMul", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool"]
# The logits stay float: quantized to 256 levels, close classes would swap (and the bias correction's raise,
# the Add before the softmax, would be rounded).
FLOAT_OUTPUTS = ["Conv", "Gemm", "MatMul"]


def calibration_samples(x, count: int = CALIBRATION_SAMPLES) -> np.ndarray:
    """A fixed random subset of the transfer set's inputs (an array, or streamed inputs read once)."""
    n = len(x)
    picked = np.sort(np.random.default_rng(CALIBRATION_SEED).permutation(n)[:min(count, n)])
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(x[picked], dtype=np.float32)
    import torch

    batches = x.batches([torch.from_numpy(picked)])  # LazyInputs: one read of the picked samples
    return np.concatenate([b.numpy() for b in batches]).astype(np.float32)


class _Reader:
    """The calibration samples in batches, as ONNX Runtime's calibrator asks for them."""

    def __init__(self, input_name: str, samples: np.ndarray):
        self.batches = iter([{input_name: samples[i:i + CALIBRATION_BATCH]}
                             for i in range(0, len(samples), CALIBRATION_BATCH)])

    def get_next(self):
        return next(self.batches, None)

    def rewind(self):  # some versions of the calibrator ask for it
        pass


def quantize(fp32_path: Path, int8_path: Path, samples: np.ndarray) -> None:
    """Write the INT8 version of ``fp32_path``; its metadata (class names) travels along."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    proto = onnx.load(str(fp32_path))
    input_name = proto.graph.input[0].name
    reader = type("Calibration", (_Reader, CalibrationDataReader), {})(input_name, samples)
    quantize_static(
        str(fp32_path), str(int8_path), reader, quant_format=QuantFormat.QDQ, per_channel=False,
        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, op_types_to_quantize=QUANTIZED_OPS,
        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True, "QuantizeBias": False,
                       "OpTypesToExcludeOutputQuantization": FLOAT_OUTPUTS},
    )
    props = {p.key: p.value for p in proto.metadata_props}
    if props:
        quantized = onnx.load(str(int8_path))
        onnx.helper.set_model_props(quantized, {**{p.key: p.value for p in quantized.metadata_props}, **props})
        onnx.save(quantized, str(int8_path))


def _batches(x, batch: int):
    if isinstance(x, np.ndarray):
        for i in range(0, len(x), batch):
            yield np.ascontiguousarray(x[i:i + batch], dtype=np.float32)
        return
    import torch

    for b in x.batches(list(torch.arange(len(x)).split(batch))):  # LazyInputs: read batch by batch
        yield b.numpy().astype(np.float32)


def predictions(path: Path, x, threads: int, batch: int = 256) -> np.ndarray:
    """The class each test sample gets from an ONNX student file."""
    session = onnx_session(path, threads)
    name = session.get_inputs()[0].name
    out = [session.run(None, {name: b})[0].argmax(axis=1) for b in _batches(x, batch)]
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def compare(fp32_path: Path, int8_path: Path, x_test, y_test, threads: int) -> dict:
    """The INT8 file's test accuracy beside the fp32 file's (both run by ONNX Runtime), and their agreement."""
    fp32, int8 = predictions(fp32_path, x_test, threads), predictions(int8_path, x_test, threads)
    report = {"test_samples": len(int8), "agreement_with_fp32": float((fp32 == int8).mean()) if len(int8) else None}
    if y_test is not None and len(y_test):
        y = np.asarray(y_test)
        report["test_accuracy"] = float((int8 == y).mean())
        report["fp32_test_accuracy"] = float((fp32 == y).mean())
        report["accuracy_change"] = report["test_accuracy"] - report["fp32_test_accuracy"]
    return report


def metadata_of(path: Path) -> dict:
    import onnx

    from models.export import METADATA_FILE

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return json.loads(props.get(METADATA_FILE, "{}"))
