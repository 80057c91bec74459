"""Every teacher format through the API with a real worker, and a torchvision student."""

import json

import numpy as np
import pytest
import torch

from models.transfer_sets import load_builtin
from tests.integration.stack import running_stack
from tests.unit.test_formats import load_in_runtime

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("matrix")) as stack:
        yield stack


@pytest.fixture(scope="module")
def digits_teacher_files(tmp_path_factory, teacher_file):
    """The session's digits teacher in every format."""
    from safetensors.torch import save_file

    from models.examples import DIGITS_TEACHER_SPEC, digits_teacher

    out = tmp_path_factory.mktemp("formats")
    net = digits_teacher(epochs=15)
    x = torch.zeros(2, 64)
    dyn = ({0: torch.export.Dim("batch", min=1, max=4096)},)
    torch.export.save(torch.export.export(net, (x,), dynamic_shapes=dyn), str(out / "t.pt2"))
    torch.onnx.export(net, (x,), str(out / "t.onnx"), dynamic_shapes=dyn, dynamo=True,
                      external_data=False)
    save_file(net.state_dict(), str(out / "t.safetensors"))
    config = {k: v for k, v in DIGITS_TEACHER_SPEC.items() if k != "arch"} | {"num_classes": 10}
    return {
        "torchscript": (teacher_file, {}),
        "exported_program": (out / "t.pt2", {}),
        "onnx": (out / "t.onnx", {}),
        "safetensors": (out / "t.safetensors", {"arch": "mlp", "arch_config": json.dumps(config)}),
    }


def run_job(stack, client, teacher_path, fields, input_shape, ts_id, student, hp) -> dict:
    with open(teacher_path, "rb") as f:
        r = client.post("/v1/teachers", files={"file": (teacher_path.name, f)},
                        data={"name": teacher_path.name, "input_shape": json.dumps(input_shape), **fields})
    assert r.status_code == 201, r.text
    r = client.post("/v1/jobs", json={"teacher_ids": [r.json()["id"]], "transfer_set_id": ts_id,
                                      "student": student, "hyperparameters": hp})
    assert r.status_code == 202, r.text
    job = stack.wait_for_job(client, r.json()["id"])
    assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
    return job


@pytest.mark.parametrize("fmt", ["torchscript", "exported_program", "onnx", "safetensors"])
def test_each_teacher_format_distils_and_every_student_format_downloads(embedded, digits_teacher_files, fmt,
                                                                        tmp_path):
    path, fields = digits_teacher_files[fmt]
    with embedded.client() as client:
        ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()["id"]
        job = run_job(embedded, client, path, {"format": fmt, **fields}, [64], ts,
                      {"arch": "mlp", "hidden_sizes": [32]}, {"epochs": 5})
        assert job["result"]["teacher"]["test_accuracy"] > 0.9
        assert job["student_formats"] == sorted(["torchscript", "exported_program", "onnx", "safetensors"])
        x = load_builtin("digits").x_test
        outputs = {}
        for out_fmt, ext in (("torchscript", "pt"), ("exported_program", "pt2"), ("onnx", "onnx"),
                             ("safetensors", "safetensors")):
            r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": out_fmt})
            assert r.status_code == 200, r.text
            assert r.headers["etag"] == f'"{job["result"]["exports"][out_fmt]["sha256"]}"'
            (tmp_path / f"s.{ext}").write_bytes(r.content)
            outputs[out_fmt] = load_in_runtime(out_fmt, tmp_path / f"s.{ext}")(x)
    reference = outputs.pop("torchscript")
    np.testing.assert_allclose(reference.sum(1), 1.0, atol=1e-5)
    for out_fmt, probs in outputs.items():
        np.testing.assert_allclose(probs, reference, atol=1e-5, err_msg=out_fmt)
    accuracy = (reference.argmax(1) == load_builtin("digits").y_test).mean()
    assert accuracy == pytest.approx(job["result"]["student"]["test_accuracy"], abs=1e-6)


def test_torchvision_student_on_synthetic_images(embedded, tmp_path):
    import io

    from safetensors.torch import save_file

    from models.zoo import build_student

    torch.manual_seed(0)
    teacher = build_student({"arch": "cnn", "channels": [16, 32]}, [3, 32, 32], 10)
    save_file(teacher.state_dict(), str(tmp_path / "cnn.safetensors"))
    rng = np.random.RandomState(0)
    buf = io.BytesIO()
    np.savez(buf, x=rng.rand(96, 3, 32, 32).astype(np.float32), y=rng.randint(0, 10, 96))
    with embedded.client() as client:
        ts = client.post("/v1/transfer-sets", files={"file": ("img.npz", buf.getvalue())},
                         data={"name": "synthetic images"}).json()["id"]
        fields = {"format": "safetensors", "arch": "cnn",
                  "arch_config": json.dumps({"channels": [16, 32], "num_classes": 10})}
        job = run_job(embedded, client, tmp_path / "cnn.safetensors", fields, [3, 32, 32], ts,
                      {"arch": "resnet18"}, {"epochs": 1, "batch_size": 32, "learning_rate": 0.01})
        assert job["progress"]["epoch"] == 1
        r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"})
        (tmp_path / "s.onnx").write_bytes(r.content)
    probs = load_in_runtime("onnx", tmp_path / "s.onnx")(np.zeros((3, 3, 32, 32), np.float32))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
