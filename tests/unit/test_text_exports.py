"""models.text.exports: the Hugging Face export loads with the Auto classes as it is and gives the student's
logits; the ONNX export runs in onnxruntime with any batch and length, giving the same predictions and
probabilities that sum to 1."""

import os
import zipfile

import numpy as np
import pytest
import torch

from models.text.exports import ONNX_INPUTS, ONNX_OUTPUT, export_huggingface, export_onnx, zip_folder
from models.text.students import TextTransformerSpec, build_text_student
from models.text.tokens import encode_texts
from tests.text_models import CLASS_NAMES, save_teacher_folder, sentences

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def teacher_folder(tmp_path_factory):
    return save_teacher_folder(tmp_path_factory.mktemp("hf") / "teacher", model_max_length=64)


@pytest.fixture(scope="module")
def student(teacher_folder):
    import json

    vocab = json.loads((teacher_folder / "config.json").read_text())["vocab_size"]
    torch.manual_seed(0)
    spec = TextTransformerSpec(arch="transformer", layers=1, hidden_size=16, heads=2, intermediate_size=32)
    return build_text_student(spec, vocab_size=vocab, num_labels=3, pad_token_id=0, max_positions=24).eval()


def ids_of(folder, n, seed, width):
    return torch.from_numpy(encode_texts(folder / "tokenizer.json", sentences(n, seed=seed), width, 0))


def test_huggingface_export_loads_with_the_auto_classes(student, teacher_folder, tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = export_huggingface(student, tmp_path / "hf", tokenizer_folder=teacher_folder, class_names=CLASS_NAMES)
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"} <= names
    assert not any(n.endswith(".bin") for n in names)
    model = AutoModelForSequenceClassification.from_pretrained(out, local_files_only=True, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(out, local_files_only=True)
    assert model.config.id2label == dict(enumerate(CLASS_NAMES))
    assert model.config.label2id == {n: i for i, n in enumerate(CLASS_NAMES)}
    assert tokenizer.model_max_length == 24  # the student's positions, not the teacher's 64
    texts = sentences(4, seed=3) + [" ".join(["cat"] * 100)]
    batch = tokenizer(texts, truncation=True, padding=True, return_tensors="pt")
    assert batch["input_ids"].shape[1] == 24
    with torch.no_grad():
        loaded = model.eval()(**batch).logits
        ours = student(batch["input_ids"])
    torch.testing.assert_close(loaded, ours)
    archive = zip_folder(out, tmp_path / "student.zip")
    with zipfile.ZipFile(archive) as z:
        assert set(z.namelist()) == names  # files at the top, as from_pretrained expects once extracted


def test_onnx_export_runs_with_any_batch_and_length(student, teacher_folder, tmp_path):
    import onnxruntime as ort

    path = export_onnx(student, tmp_path / "student.onnx", pad_token_id=0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(ONNX_INPUTS)
    assert [o.name for o in session.get_outputs()] == [ONNX_OUTPUT]
    for n, width, seed in ((3, 24, 1), (5, 9, 2), (1, 4, 3)):
        ids = ids_of(teacher_folder, n, seed, width)
        mask = (ids != 0).long()
        probs = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        with torch.no_grad():
            reference = torch.softmax(student(ids), dim=-1).numpy()
        assert probs.shape == (n, 3)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(probs, reference, atol=1e-5)
        assert (probs.argmax(1) == reference.argmax(1)).all()
    assert not student.training  # the export left the student as it was
