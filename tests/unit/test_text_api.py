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
