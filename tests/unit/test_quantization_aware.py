"""Quantization-aware fine-tuning (``quantization_aware``): the fake quantization rounds as ONNX Runtime's static
quantization (models/int8.py) will, and where post-training quantization loses accuracy the fine-tune, still
distilling from the teacher, gets it back. Every accuracy here is the ONNX files' own, on digits' test split."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from app.schemas import JobCreate
from models import int8
from models.distill_config import KDConfig
from models.export import PlainSoftmax, export_onnx
from models.transfer_sets import load_builtin
from models.zoo import build_student
from worker.engine import fake_quant
from worker.engine.pipeline import Experiment, run_experiment

# Pixel 0 is blank in every digit (train and test): a weight on it never changes the fp32 student's answers,
# but per-tensor weight quantization takes its layer's scale from it: at 150 one level is 1.18, and the
# layer's other weights (mostly under 1) round to -1, 0 or 1 level.
BLANK_PIXEL, OUTLIER = 0, 150.0


def _as_written(path, x):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def _onnx_answers(model: PlainSoftmax, shape, path, x_train, x_test, y_test) -> dict:
    fp32, quantized = path / "s.onnx", path / "s.int8.onnx"
    export_onnx(model, shape, fp32)
    int8.quantize(fp32, quantized, int8.calibration_samples(x_train))
    return int8.compare(fp32, quantized, x_test, y_test, threads=1) | {"int8_file": quantized}


# The CNN's tolerance: the export folds its batch norms in its own float order, and a weight on a rounding
# boundary may land one level apart.
@pytest.mark.parametrize("spec,shape,tolerance", [({"arch": "mlp", "hidden_sizes": [32]}, [64], 1e-5),
                                                  ({"arch": "cnn", "channels": [8, 16]}, [1, 8, 8], 2e-3)])
def test_the_fake_quantized_student_answers_as_the_int8_file_does(spec, shape, tolerance, tmp_path):
    """Same rounding: on test inputs the fake-quantized network and ORT's INT8 file pick the same class
    (batch norms folded into the convolutions as the export folds them)."""
    digits = load_builtin("digits")
    x_train, x_test = digits.x_train.reshape(-1, *shape), digits.x_test.reshape(-1, *shape)
    torch.manual_seed(0)
    net = build_student(spec, shape, 10)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    x, y = torch.from_numpy(x_train), torch.from_numpy(digits.y_train)
    for _ in range(3):
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    net.eval()
    report = _onnx_answers(PlainSoftmax(net, 10).eval(), shape, tmp_path, x_train, x_test, digits.y_test)

    quantized = fake_quant.prepare(net)
    fake_quant.calibrate(quantized, torch.from_numpy(int8.calibration_samples(x_train)))
    with torch.no_grad():
        fake = quantized(torch.from_numpy(x_test)).softmax(1).numpy()
        plain = fake_quant.strip(quantized)(torch.from_numpy(x_test)).argmax(1).numpy()
    ort = int8.onnx_session(report["int8_file"], 1).run(None, {"input": x_test})[0]
    assert (fake.argmax(1) == ort.argmax(1)).mean() >= 0.99
    # The file's QDQ arithmetic exactly: run as written (ORT's optimized session fuses it into integer kernels
    # that round their own way, so its probabilities differ from both by about a thousandth on average).
    written = _as_written(report["int8_file"], x_test)
    assert np.abs(fake - written).max() < tolerance
    # stripped, the folded float network is the fp32 student again
    assert (plain == net(torch.from_numpy(x_test)).argmax(1).numpy()).mean() == 1.0


def test_quantization_aware_fine_tuning_recovers_what_post_training_quantization_loses(digits_teacher_model,
                                                                                        tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the figures below were measured on one thread; fixed seeds throughout
    try:
        _recovers(digits_teacher_model, tmp_path)
    finally:
        torch.set_num_threads(threads)


def _recovers(teacher, tmp_path) -> None:
    digits = load_builtin("digits")

    def student():
        torch.manual_seed(0)
        net = build_student({"arch": "mlp", "hidden_sizes": [32]}, [64], 10)
        with torch.no_grad():
            net[1].weight[0, BLANK_PIXEL] = OUTLIER
        return net

    exp = Experiment(teachers=[teacher], data=digits, make_student=student, num_classes=10,
                     config=KDConfig(epochs=10, learning_rate=0.1, temperature=4.0, device="cpu"),
                     quantization_aware_epochs=3)
    outcome = run_experiment(exp)
    distilled, fine_tuned = outcome.students["distilled"], outcome.students["quantization_aware"]
    assert outcome.results["quantization_aware"]["epochs"] == 3
    # the outlier survived both trainings (its input is always 0: no gradient), so both face the same scale
    for model in (distilled, fine_tuned):
        assert model.student[1].weight[0, BLANK_PIXEL] == OUTLIER

    ptq = _onnx_answers(distilled, [64], tmp_path, digits.x_train, digits.x_test, digits.y_test)
    (tmp_path / "qat").mkdir()
    qat = _onnx_answers(fine_tuned, [64], tmp_path / "qat", digits.x_train, digits.x_test, digits.y_test)
    fp32 = ptq["fp32_test_accuracy"]
    print(f"fp32 {fp32:.4f}  post-training int8 {ptq['test_accuracy']:.4f} ({ptq['agreement_with_fp32']:.4f} "
          f"agreement)  quantization-aware int8 {qat['test_accuracy']:.4f} ({qat['agreement_with_fp32']:.4f} "
          "agreement with its own fp32 file)")
    assert fp32 > 0.9
    assert ptq["test_accuracy"] < fp32 - 0.05  # post-training quantization really hurts here
    assert qat["test_accuracy"] > ptq["test_accuracy"] + 0.05  # and the fine-tune recovers most of it
    assert qat["test_accuracy"] >= fp32 - 0.03


BODY = {"teacher_ids": ["tch_a"], "transfer_set_id": "ts_1", "student": {"arch": "mlp"},
        "quantization_aware": True, "export_formats": ["onnx_int8"]}


def test_quantization_aware_needs_an_int8_export_and_a_student_it_can_mirror():
    assert JobCreate.model_validate(BODY).quantization_aware_epochs == 3
    with pytest.raises(ValidationError, match="add 'onnx_int8' to export_formats"):
        JobCreate.model_validate({**BODY, "export_formats": ["onnx"]})
    with pytest.raises(ValidationError, match="not available with a sweep"):
        JobCreate.model_validate({**BODY, "sweep": {"temperature": [2.0, 4.0]}})
    with pytest.raises(ValidationError, match="quantized after training only"):
        JobCreate.model_validate({**BODY, "student": {"arch": "resnet18"}})
    with pytest.raises(ValidationError, match="less than or equal to 50"):
        JobCreate.model_validate({**BODY, "quantization_aware_epochs": 51})
    assert JobCreate.model_validate({**BODY, "quantization_aware": False, "export_formats": ["onnx"]})
