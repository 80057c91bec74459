"""The INT8 student on real networks trained on digits: ONNX Runtime static quantization calibrated on
transfer-set samples keeps the fp32 student's accuracy within a point, at most half its file's size."""

import numpy as np
import pytest
import torch

from models import int8
from models.export import PlainSoftmax, export_onnx
from models.transfer_sets import load_builtin
from models.zoo import build_student

CASES = {"mlp": ({"arch": "mlp", "hidden_sizes": [64, 64]}, [64]),
         "cnn": ({"arch": "cnn", "channels": [32, 64]}, [1, 8, 8])}


def _trained(spec, shape, epochs: int = 10) -> tuple[PlainSoftmax, np.ndarray, np.ndarray, np.ndarray]:
    digits = load_builtin("digits")
    x_train, x_test = digits.x_train.reshape(-1, *shape), digits.x_test.reshape(-1, *shape)
    torch.manual_seed(0)
    net = build_student(spec, shape, 10)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    x, y = torch.from_numpy(x_train), torch.from_numpy(digits.y_train)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return PlainSoftmax(net.eval(), 10).eval(), x_train, x_test, digits.y_test


@pytest.mark.parametrize("arch", list(CASES))
def test_the_int8_student_keeps_the_accuracy_in_half_the_bytes(arch, tmp_path):
    spec, shape = CASES[arch]
    model, x_train, x_test, y_test = _trained(spec, shape)
    fp32, quantized = tmp_path / "s.onnx", tmp_path / "s.int8.onnx"
    export_onnx(model, shape, fp32, {"class_names": [str(c) for c in range(10)]})
    int8.quantize(fp32, quantized, int8.calibration_samples(x_train))

    report = int8.compare(fp32, quantized, x_test, y_test, threads=1)
    assert report["fp32_test_accuracy"] > 0.9
    assert abs(report["accuracy_change"]) <= 0.01, report
    assert report["agreement_with_fp32"] >= 0.97
    assert quantized.stat().st_size <= fp32.stat().st_size / 2
    # the fp32 figure is the torch student's own: the ONNX file is the same network
    with torch.no_grad():
        torch_pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    assert report["fp32_test_accuracy"] == pytest.approx((torch_pred == y_test).mean(), abs=1e-9)
    # a plain softmax still, and the class names travel along
    probs = int8.onnx_session(quantized, 1).run(None, {"input": x_test[:7]})[0]
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert int8.metadata_of(quantized) == {"class_names": [str(c) for c in range(10)]}


def test_calibration_takes_a_fixed_subset_of_the_transfer_set():
    x = np.arange(1000, dtype=np.float32).reshape(500, 2)
    a, b = int8.calibration_samples(x, 100), int8.calibration_samples(x, 100)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (100, 2) and len(np.unique(a[:, 0])) == 100
    assert int8.calibration_samples(x[:30], 100).shape == (30, 2)  # a small set is used whole
