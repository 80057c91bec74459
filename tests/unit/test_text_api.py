"""Text classifiers at the API (issue 27): Hugging Face teachers and text transfer sets uploaded, each refusal a
422 naming its field and saying what to do; jobs pairing them are checked at submit. In-process (TestClient)."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.unit.test_api import assert_problem, counts, stored_files


def zip_folder(folder: Path, archive: Path, *, top: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, top + path.relative_to(folder).as_posix())
    return archive


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory) -> Path:
    from tests.text_models import save_teacher_folder

    return save_teacher_folder(tmp_path_factory.mktemp("hf") / "teacher")


def upload_hf(client, archive: Path, **fields):
    data = {"name": "bert", "format": "huggingface", **fields}
    with open(archive, "rb") as f:
        return client.post("/v1/teachers", files={"file": (archive.name, f)}, data=data)


def variant(hf_folder: Path, tmp_path: Path, change) -> Path:
    import shutil

    folder = tmp_path / "variant"
    shutil.copytree(hf_folder, folder)
    change(folder)
    return zip_folder(folder, tmp_path / "variant.zip")


def test_huggingface_teacher_is_uploaded(client, hf_folder, tmp_path):
    r = upload_hf(client, zip_folder(hf_folder, tmp_path / "t.zip", top="teacher/"), max_length="16")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "huggingface" and body["input_shape"] == [16] and body["input_dtype"] == "int64"
    assert body["num_classes"] == 3 and body["arch_config"]["class_names"] == ["negative", "neutral", "positive"]
    assert len(body["arch_config"]["tokenizer_sha256"]) == 64
    assert stored_files() == [f"teachers/{body['id']}.zip"]


def _add(name, content=b"x"):
    return lambda folder: (folder / name).write_bytes(content)


def _config(change):
    def apply(folder):
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))
    return apply


def _drop(*names):
    return lambda folder: [(folder / n).unlink() for n in names]


def _slow_only(folder):
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n")


@pytest.mark.parametrize("change, words, field", [
    (_add("pytorch_model.bin"), ("pytorch_model.bin", "safe_serialization=True"), "file"),
    (_config(lambda c: c.update(auto_map={"AutoModel": "x.Y"})), ("auto_map", "trust_remote_code"), "file"),
    (_drop("tokenizer.json"), ("no tokenizer", "save_pretrained"), "file"),
    (_slow_only, ("slow tokenizer", "use_fast=True"), "file"),
    (_config(lambda c: c.update(model_type="my_own_bert")), ("model_type",), "file"),
])
def test_huggingface_refusals_say_what_to_do(client, hf_folder, tmp_path, change, words, field):
    assert_problem(upload_hf(client, variant(hf_folder, tmp_path, change)), 422, *words, field=field)
    assert counts()["teachers"] == 0 and stored_files() == []


def test_huggingface_field_refusals(client, hf_folder, tmp_path):
    archive = zip_folder(hf_folder, tmp_path / "t.zip")
    assert_problem(upload_hf(client, archive, max_length="100000"), 422, "max_length", field="max_length")
    assert_problem(upload_hf(client, archive, input_shape="[16]"), 422, "input_shape", field="input_shape")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert_problem(upload_hf(client, junk), 422, "zip", field="file")
    assert counts()["teachers"] == 0


def test_api_starts_without_transformers():
    code = ("import sys; import app.main; app.main.create_app(); "
            "assert 'transformers' not in sys.modules, 'transformers imported at start-up'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def upload_texts(client, content: bytes, filename: str = "texts.jsonl", **fields):
    return client.post("/v1/transfer-sets", files={"file": (filename, content)}, data={"name": "texts", **fields})


def jsonl(rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def test_a_text_set_keeps_its_texts_and_holds_out_a_fifth(client):
    rows = [{"text": f"good cat {i}", "label": "positive" if i % 2 else "negative"} for i in range(10)]
    r = upload_texts(client, jsonl(rows))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "text" and body["dtype"] == "text" and body["num_samples"] == 8 and body["num_test"] == 2
    assert body["class_names"] == ["negative", "positive"] and body["labelled"]
    # the first five training rows are kept with the set (the dashboard's set page shows them)
    examples = body["spec"]["examples"]
    assert len(examples) == 5 and len({e["text"] for e in examples}) == 5 and all(e in rows for e in examples)
    csv = b"sentence,split\nhello there,train\nbye now,test\n"
    r = upload_texts(client, csv, "t.csv", kind="text", text_column="sentence")
    assert r.status_code == 201, r.text
    assert (r.json()["num_samples"], r.json()["num_test"], r.json()["labelled"]) == (1, 1, False)


@pytest.mark.parametrize("content, fields, words, field", [
    (b'{"body": "x"}', {}, ("'text'", "text_column"), "text_column"),
    (b'{"text": "x", "label": "a"}\n{"text": "y", "label": 1}', {}, ("all class names or all class indices",), "file"),
    (b'{"text": "x"}', {"label_column": "y"}, ("'y'",), "label_column"),
    (b"not json", {}, ("line 1", "JSON"), "file"),
    (b'{"text": 3}', {}, ("string",), "file"),
])
def test_text_set_refusals(client, content, fields, words, field):
    assert_problem(upload_texts(client, content, **fields), 422, *words, field=field)
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_text_jobs_are_checked_at_submit(client, hf_folder, tmp_path, teacher_file):
    hf = upload_hf(client, zip_folder(hf_folder, tmp_path / "t.zip")).json()["id"]
    with open(teacher_file, "rb") as f:
        plain = client.post("/v1/teachers", files={"file": ("t.pt", f)},
                            data={"name": "digits", "input_shape": "[64]"}).json()["id"]
    named = upload_texts(client, jsonl([{"text": "good", "label": "positive"}, {"text": "bad", "label": "angry"}]))
    named = named.json()["id"]
    texts = upload_texts(client, jsonl([{"text": "good", "label": 2}, {"text": "bad", "label": 0}])).json()["id"]
    transformer = {"arch": "transformer", "layers": 1, "hidden_size": 16, "heads": 2, "intermediate_size": 32}

    def submit(teacher, ts, student=transformer, **extra):
        return client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts, "student": student,
                                             **extra})

    assert_problem(submit(hf, named), 422, "'angry'", "id2label", field="transfer_set_id")
    assert_problem(submit(plain, texts, {"arch": "mlp"}), 422, "not a text model", "format=huggingface",
                   field="transfer_set_id")
    assert_problem(submit(hf, texts, export_formats=["torchscript"]), 422, "huggingface, onnx, safetensors",
                   field="export_formats")
    assert_problem(submit(hf, texts, {**transformer, "hidden_size": 32, "init": "teacher"}), 422, "hidden_size",
                   field="student.init")
    assert_problem(submit(hf, texts, {**transformer, "hidden_size": 4096, "heads": 4, "layers": 24}), 422,
                   "parameters", field="student")
    r = submit(hf, texts)
    assert r.status_code == 202, r.text
    assert r.json()["export_formats"] == ["huggingface", "onnx", "safetensors"]
    r = submit(hf, texts, {"arch": "bilstm", "embedding_dim": 8, "hidden_size": 8})
    assert r.status_code == 202 and r.json()["export_formats"] == ["onnx", "safetensors"], r.text


def test_a_tar_gz_with_one_top_folder_unpacks_to_the_checked_folder(hf_folder, tmp_path):
    import tarfile

    from models.archives import ArchiveInvalid
    from models.text.archive import archive_suffix, unpack_hf_archive
    from models.text.hf_folder import check_hf_folder

    archive = tmp_path / "t.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(hf_folder, arcname="my-model")
    folder = unpack_hf_archive(archive, tmp_path / "out", max_bytes=1 << 30)
    assert folder.name == "my-model" and check_hf_folder(folder).num_labels == 3
    assert archive_suffix(archive) == ".tar.gz"
    linked = tmp_path / "linked.tar.gz"
    with tarfile.open(linked, "w:gz") as tar:
        info = tarfile.TarInfo("config.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(ArchiveInvalid, match="link"):
        unpack_hf_archive(linked, tmp_path / "out2", max_bytes=1 << 30)
    assert not (tmp_path / "out2").exists()


def test_a_hugging_face_teacher_must_fit_the_sandbox_scratch_space(client, hf_folder, tmp_path, monkeypatch):
    """It is unpacked again inside the sandbox, whose /tmp is DISTILLERY_SANDBOX_SCRATCH_BYTES: an archive that
    would not fit there is a 413 at upload that names the setting, not a failed probe."""
    import os

    from core.config import get_settings

    monkeypatch.setenv("DISTILLERY_SANDBOX_SCRATCH_BYTES", str(16 * 1024**2))
    get_settings.cache_clear()
    archive = variant(hf_folder, tmp_path, _add("notes.bin.txt", os.urandom(15 * 1024**2)))
    r = upload_hf(client, archive)
    assert_problem(r, 413, "DISTILLERY_SANDBOX_SCRATCH_BYTES")
    assert counts()["teachers"] == 0 and stored_files() == []
    monkeypatch.setenv("DISTILLERY_SANDBOX_SCRATCH_BYTES", str(64 * 1024**2))
    get_settings.cache_clear()
    assert upload_hf(client, archive).status_code == 201
