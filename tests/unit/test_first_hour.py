"""What a new user trips over first: refusals that say what is wrong without showing server paths."""

import io

import torch

from core.config import get_settings
from models.examples import save_torchscript
from tests import hostile_models as hostile
from tests.unit.test_api import assert_problem, upload_teacher


def test_a_teacher_whose_output_is_not_batch_by_classes_is_refused_naming_the_shape(client, tmp_path):
    mlp = tmp_path / "mlp.pt"  # a Linear first: [B, 1, 64] in gives [B, 1, 10] out
    save_torchscript(torch.nn.Sequential(torch.nn.Linear(64, 10)), mlp)
    body = assert_problem(upload_teacher(client, mlp, input_shape="[1, 64]"), 422, "[batch, classes]", field="file")
    assert "[2, 1, 10]" in body["detail"]


def _bad_uploads(tmp_path):
    """Files of every kind a user gets wrong, with the format they claim."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a network")
    pickled = tmp_path / "state.pt"
    torch.save(torch.nn.Linear(4, 3).state_dict(), pickled)
    wrong_input = tmp_path / "wrong.pt"
    save_torchscript(torch.nn.Sequential(torch.nn.Linear(5, 3)), wrong_input)
    onnx = tmp_path / "model.onnx"
    buf = io.BytesIO()
    torch.onnx.export(torch.nn.Linear(4, 3), (torch.zeros(1, 4),), buf, dynamo=False)
    onnx.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])  # cut short
    pt2 = hostile.exported_program(tmp_path / "fixed.pt2")
    cases = [(notes, f) for f in ("torchscript", "exported_program", "onnx")]
    cases += [(pickled, "torchscript"), (pickled, "exported_program"), (wrong_input, "torchscript"),
              (onnx, "onnx"), (pt2, "torchscript"), (notes, "safetensors")]
    return cases


def test_no_refused_upload_shows_a_server_path_or_a_repeated_prefix(client, tmp_path):
    var = str(get_settings().var_dir.resolve())
    for path, fmt in _bad_uploads(tmp_path):
        extra = {"arch": "mlp", "arch_config": '{"num_classes": 3}'} if fmt == "safetensors" else {}
        r = upload_teacher(client, path, format=fmt, input_shape="[4]", **extra)
        assert r.status_code == 422, (path.name, fmt, r.text)
        detail = r.json()["detail"]
        for leak in (var, str(tmp_path), "/job/", "/tmp/", ".staging"):
            assert leak not in detail, (path.name, fmt, detail)
        for word in ("RuntimeError", "ValueError", "Error"):
            assert f"{word}: {word}" not in detail, detail
    pickled = [r for r in _bad_uploads(tmp_path) if r[0].name == "state.pt"][0]
    assert "pickle" in upload_teacher(client, pickled[0], input_shape="[4]").json()["detail"]


def test_malformed_json_names_the_body_and_the_position(client):
    r = client.post("/v1/jobs", content=b'{"teacher_ids": [1,}', headers={"content-type": "application/json"})
    body = assert_problem(r, 422, "not valid JSON", "character 19", field="body")
    assert [e["field"] for e in body["errors"]] == ["body"]


def _digits_mlp() -> torch.nn.Module:
    from models.examples import digits_teacher

    return digits_teacher(epochs=5).eval()


def test_static_batch_teachers_run_in_chunks_end_to_end(client, tmp_path):
    """`torch.export.export(model, (x,))` with no dynamic_shapes, and an ONNX file with a fixed batch axis:
    accepted, said to be fixed-batch, and distilled from, the teacher run in padded chunks."""
    from tests.unit.test_job_runner import digits_set, run_job

    model = _digits_mlp()
    pt2 = tmp_path / "static.pt2"
    torch.export.save(torch.export.export(model, (torch.zeros(8, 64),)), str(pt2))
    onnx = tmp_path / "static.onnx"
    torch.onnx.export(model, (torch.zeros(8, 64),), str(onnx), dynamo=False, input_names=["x"])
    digits = digits_set(client)
    for path, fmt in ((pt2, "exported_program"), (onnx, "onnx")):
        r = upload_teacher(client, path, format=fmt)
        assert r.status_code == 201, r.text
        assert r.json()["fixed_batch_size"] == 8 and r.json()["num_classes"] == 10
        job = run_job(client, teacher_ids=[r.json()["id"]], transfer_set_id=digits, hyperparameters={"epochs": 3})
        assert job["status"] == "succeeded", job["error"]
        # The teacher's report is its own predictions on all 360 test images: chunking lost none.
        assert job["result"]["teacher"]["test_accuracy"] > 0.85
    dynamic = tmp_path / "dynamic.pt2"
    batch = torch.export.Dim("batch", min=1)
    torch.export.save(torch.export.export(model, (torch.zeros(8, 64),), dynamic_shapes=({0: batch},)), str(dynamic))
    r = upload_teacher(client, dynamic, format="exported_program")
    assert r.status_code == 201 and r.json()["fixed_batch_size"] is None
