"""Text classifiers end to end (issue 27): a small BERT trained here, saved with save_pretrained and uploaded as a
Hugging Face teacher; a JSONL set of templated sentences labelled with class names; a job distilling it into a
1-layer transformer; the huggingface export loaded with the Auto classes and scored against the teacher on
held-out texts; the ONNX export's predictions the same, its rows probabilities; the job's deployment report
checked against the downloaded files. One embedded stack."""

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from models.text.examples import CLASS_NAMES, texts, train_teacher, zipped
from tests.integration.stack import running_stack

pytestmark = pytest.mark.slow

JOB_SECONDS = 600
STUDENT = {"arch": "transformer", "layers": 1, "hidden_size": 32, "heads": 2, "intermediate_size": 64, "dropout": 0.0}
# the job's student starts from the teacher's embeddings and first layer (DistilBERT's init), so few epochs do
INIT_STUDENT = {**STUDENT, "init": "teacher"}
HP = {"epochs": 6, "batch_size": 32, "learning_rate": 0.003, "optimizer": "adam", "temperature": 2.0}


def accuracy(predictions, labels) -> float:
    return float(np.mean([CLASS_NAMES[int(p)] == label for p, label in zip(predictions, labels, strict=True)]))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("text")) as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    with stack.client() as c:
        yield c


@pytest.fixture(scope="module")
def teacher_folder(tmp_path_factory) -> Path:
    return train_teacher(tmp_path_factory.mktemp("teacher") / "bert")


@pytest.fixture(scope="module")
def teacher(client, teacher_folder) -> dict:
    r = client.post("/v1/teachers", files={"file": ("bert.zip", zipped(teacher_folder))},
                    data={"name": "bert", "format": "huggingface"})
    assert r.status_code == 201, r.text
    return r.json()


def upload_texts(client, rows: list[dict], **fields) -> dict:
    content = "\n".join(json.dumps(r) for r in rows).encode()
    r = client.post("/v1/transfer-sets", files={"file": ("texts.jsonl", content)}, data={"name": "texts", **fields})
    assert r.status_code == 201, r.text
    return r.json()


def teacher_predictions(folder: Path, x: list[str]) -> np.ndarray:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        return model(**tokenizer(x, padding=True, truncation=True, return_tensors="pt")).logits.argmax(-1).numpy()


def test_a_bert_teacher_is_distilled_into_a_small_transformer(stack, client, teacher, teacher_folder, tmp_path):
    assert teacher["input_shape"] == [16] and teacher["input_dtype"] == "int64" and teacher["num_classes"] == 3
    x, y = texts(400, seed=2)
    ts = upload_texts(client, [{"text": t, "label": label} for t, label in zip(x, y, strict=True)])
    assert ts["kind"] == "text" and ts["num_test"] == 80 and set(ts["class_names"]) == set(CLASS_NAMES)
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher["id"]], "transfer_set_id": ts["id"],
                                      "student": INIT_STUDENT, "hyperparameters": HP})
    assert r.status_code == 202, r.text
    assert r.json()["export_formats"] == ["huggingface", "onnx", "safetensors"]
    job = stack.wait_for_job(client, r.json()["id"], timeout=JOB_SECONDS)
    assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')[-4000:]}"
    assert sorted(job["student_formats"]) == ["huggingface", "onnx", "safetensors"], job["result"]["exports"]

    held_out, labels = texts(300, seed=3)
    teacher_accuracy = accuracy(teacher_predictions(teacher_folder, held_out), labels)
    assert teacher_accuracy > 0.6, teacher_accuracy  # better than chance (1/3)

    r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "huggingface"})
    assert r.status_code == 200
    student_folder = tmp_path / "student"
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(student_folder)
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    student = AutoModelForSequenceClassification.from_pretrained(student_folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(student_folder)
    assert student.config.id2label == dict(enumerate(CLASS_NAMES))
    batch = tokenizer(held_out, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        probabilities = torch.softmax(student(**batch).logits, -1).numpy()
    student_accuracy = accuracy(probabilities.argmax(-1), labels)
    assert student_accuracy >= teacher_accuracy - 0.05, (student_accuracy, teacher_accuracy)

    r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"})
    assert r.status_code == 200
    session = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
    onnx_out = session.run(["probabilities"], {"input_ids": batch["input_ids"].numpy().astype(np.int64),
                                               "attention_mask": batch["attention_mask"].numpy().astype(np.int64)})[0]
    np.testing.assert_allclose(onnx_out.sum(-1), 1.0, atol=1e-4)
    assert (onnx_out.argmax(-1) == probabilities.argmax(-1)).mean() > 0.99
    np.testing.assert_allclose(onnx_out, probabilities, atol=1e-4)

    r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "safetensors"})
    assert r.status_code == 200
    check_text_report(job, teacher, teacher_folder, onnx=len(client.get(
        f"/v1/jobs/{job['id']}/student", params={"format": "onnx"}).content), safetensors=r.content,
        inputs=["input_ids", "attention_mask"])


def check_text_report(job: dict, teacher: dict, teacher_folder: Path, *, onnx: int, safetensors: bytes,
                      inputs: list[str]) -> dict:
    """What the student buys, against the test's own counts: the teacher's parameters from its folder, its size
    the uploaded archive's, the student's parameters the weights of its downloaded safetensors file (the network's,
    under ``student.``; the PlainSoftmax's class bias is not a parameter), its size the ONNX download's."""
    from safetensors.numpy import load as load_safetensors
    from transformers import AutoModelForSequenceClassification

    report = job["result"]["deployment"]
    assert not {"error", "teacher_error", "student_error"} & set(report), report
    t, s = report["teacher"], report["student"]
    bert = AutoModelForSequenceClassification.from_pretrained(teacher_folder)
    assert (t["format"], t["in_sandbox"], t["threads"]) == ("huggingface", True, 1) and t["runtime"].startswith("torch")
    assert t["parameters"] == sum(p.numel() for p in bert.parameters()) and t["size_bytes"] == teacher["size_bytes"]
    weights = load_safetensors(safetensors)
    assert s["parameters"] == sum(v.size for k, v in weights.items() if k.startswith("student.")) > 1000
    assert s["size_bytes"] == onnx == job["result"]["exports"]["onnx"]["size_bytes"] and s["exported"] is True
    assert s["export_sizes"] == {f: e["size_bytes"] for f, e in job["result"]["exports"].items()}
    assert s["inputs"] == inputs and s["runtime"].startswith("onnxruntime") and report["sequence_length"] == 16
    assert report["student_torch"]["mode"] == "eager" and report["student_torch"]["parameters"] == s["parameters"]
    for network in (t, s, report["student_torch"]):
        assert 0 < network["latency_ms_p50"] <= network["latency_ms_p90"] and network["samples_per_second"] > 0
    assert report["speedup"] == pytest.approx(t["latency_ms_p50"] / report["student_torch"]["latency_ms_p50"])
    assert report["compression"] == pytest.approx(t["size_bytes"] / s["size_bytes"])
    assert "student_int8" not in report and "not made for text students" in report["student_int8_error"]
    return report


def test_text_refusals_at_submit(client, teacher):
    unknown = upload_texts(client, [{"text": "good cat", "label": "positive"}, {"text": "bad dog", "label": "angry"}])
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher["id"]], "transfer_set_id": unknown["id"],
                                      "student": STUDENT, "hyperparameters": HP})
    assert r.status_code == 422 and "'angry'" in r.json()["detail"], r.text
    good = upload_texts(client, [{"text": "good cat", "label": 2}, {"text": "bad dog", "label": 0}])
    r = client.post("/v1/jobs", json={"teacher_ids": [teacher["id"]], "transfer_set_id": good["id"],
                                      "student": STUDENT, "hyperparameters": HP, "export_formats": ["torchscript"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "export_formats", r.text


def test_the_cli_distils_a_hugging_face_teacher_into_a_bilstm(stack, teacher_folder, tmp_path):
    """The CLI's steps for text (no --input-shape for a save_pretrained zip, a .jsonl set), and the cheap student:
    a BiLSTM over the teacher's token ids, its ONNX file run on ids the teacher's tokenizer makes."""
    import os
    import subprocess

    import onnxruntime as ort
    from transformers import AutoTokenizer

    from tests.integration.stack import ROOT

    env = {**os.environ, "DISTILLERY_URL": stack.url}

    def cli(*args: str) -> dict:
        done = subprocess.run([str(ROOT / ".venv" / "bin" / "distillery"), *args], env=env, capture_output=True,
                              text=True, timeout=JOB_SECONDS)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}

    (tmp_path / "bert.zip").write_bytes(zipped(teacher_folder))
    x, y = texts(400, seed=4)
    rows = [json.dumps({"text": t, "label": v}) for t, v in zip(x, y, strict=True)]
    (tmp_path / "texts.jsonl").write_text("\n".join(rows))
    teacher = cli("teachers", "add", str(tmp_path / "bert.zip"), "--name", "bert")
    assert (teacher["format"], teacher["input_dtype"]) == ("huggingface", "int64")
    ts = cli("transfer-sets", "add", str(tmp_path / "texts.jsonl"), "--name", "texts")
    assert ts["kind"] == "text"
    student = {"arch": "bilstm", "embedding_dim": 32, "hidden_size": 32, "dropout": 0.0}
    job = cli("jobs", "submit", "--teacher", teacher["id"], "--transfer-set", ts["id"], "--student",
              json.dumps(student), "--hyperparameters", json.dumps({**HP, "epochs": 8}), "--wait")
    assert job["status"] == "succeeded", job
    cli("jobs", "download", job["id"], "--format", "onnx", "-o", str(tmp_path / "bilstm.onnx"))
    cli("jobs", "download", job["id"], "--format", "safetensors", "-o", str(tmp_path / "bilstm.safetensors"))
    check_text_report(job, teacher, teacher_folder, onnx=(tmp_path / "bilstm.onnx").stat().st_size,
                      safetensors=(tmp_path / "bilstm.safetensors").read_bytes(), inputs=["input_ids"])
    # `jobs show` prints the table on stderr (wide enough that no row label wraps)
    shown = subprocess.run([str(ROOT / ".venv" / "bin" / "distillery"), "jobs", "show", job["id"]],
                           env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    labels = {re.split("[│|]", line.strip().strip("│|"))[0].strip() for line in shown.stderr.splitlines()}
    assert "what the student buys" in shown.stderr and {"teacher", "student", "student (torch)"} <= labels, shown.stderr
    assert "speedup" in shown.stderr and "no INT8 student" in shown.stderr

    held_out, labels = texts(300, seed=5)
    ids = AutoTokenizer.from_pretrained(teacher_folder)(held_out, padding="max_length", truncation=True,
                                                         max_length=teacher["input_shape"][0])["input_ids"]
    session = ort.InferenceSession(str(tmp_path / "bilstm.onnx"), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {session.get_inputs()[0].name: np.asarray(ids, np.int64)})[0]
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-4)
    teacher_accuracy = accuracy(teacher_predictions(teacher_folder, held_out), labels)
    assert accuracy(probabilities.argmax(-1), labels) >= teacher_accuracy - 0.1, teacher_accuracy


def test_the_generated_client_distils_a_hugging_face_teacher(stack, teacher_folder):
    """The Python client's steps for text: a save_pretrained zip uploaded with format huggingface and no
    input_shape, a .jsonl set as a file, a job, its ONNX student downloaded."""
    import time

    from distillery_client import Client
    from distillery_client.api.jobs import create_job, download_student, get_job
    from distillery_client.api.teachers import create_teacher
    from distillery_client.api.transfer_sets import create_transfer_set
    from distillery_client.models import BodyCreateTeacher, CreateTransferSetFilesBody, JobCreate
    from distillery_client.types import File

    client = Client(base_url=stack.url, timeout=60)
    teacher = create_teacher.sync(client=client, body=BodyCreateTeacher(
        file=File(payload=io.BytesIO(zipped(teacher_folder)), file_name="bert.zip"), name="bert",
        format_="huggingface"))
    assert str(teacher.format_) == "huggingface" and teacher.input_shape == [16], teacher
    x, y = texts(200, seed=6)
    jsonl = "\n".join(json.dumps({"text": t, "label": v}) for t, v in zip(x, y, strict=True)).encode()
    ts = create_transfer_set.sync(client=client, body=CreateTransferSetFilesBody(
        file=File(payload=io.BytesIO(jsonl), file_name="texts.jsonl"), name="texts"))
    assert str(ts.kind) == "text", ts
    job = create_job.sync(client=client, body=JobCreate.from_dict({
        "teacher_ids": [teacher.id], "transfer_set_id": ts.id, "export_formats": ["onnx"],
        "student": {"arch": "bilstm", "embedding_dim": 16, "hidden_size": 16},
        "hyperparameters": {**HP, "epochs": 2}}))
    deadline = time.monotonic() + JOB_SECONDS
    while str(job.status) not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(1)
        job = get_job.sync(client=client, job_id=job.id)
    assert str(job.status) == "succeeded", job.error
    onnx = download_student.sync_detailed(client=client, job_id=job.id, format_="onnx")
    assert onnx.status_code == 200
    import onnxruntime as ort
    from transformers import AutoTokenizer

    ids = AutoTokenizer.from_pretrained(teacher_folder)(x[:8], padding="max_length", truncation=True,
                                                         max_length=16)["input_ids"]
    session = ort.InferenceSession(onnx.content, providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {session.get_inputs()[0].name: np.asarray(ids, np.int64)})[0]
    assert probabilities.shape == (8, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-4)
