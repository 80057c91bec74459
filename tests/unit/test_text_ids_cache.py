"""A text set's token ids are cached by (set, tokenizer hash, max_length) (worker/jobs/text_data.py): a second
load of the same set with the same teacher reads them instead of tokenizing, and a change of any part of the
key is a miss. The teacher and set are real uploads through the API, read back as the worker reads them."""

import json

import numpy as np
import pytest

import models.text.tokens
from core.db import session_scope
from core.store import get_store
from core.tables import Teacher, TransferSet
from models.text.examples import zipped
from tests.text_models import save_teacher_folder
from worker.engine.teacher_cache import TeacherOutputCache
from worker.jobs.text_data import load_text_data


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> bytes:
    return zipped(save_teacher_folder(tmp_path_factory.mktemp("hf") / "teacher", model_max_length=16))


def _upload(client, archive: bytes) -> tuple[str, str, str]:
    teacher = client.post("/v1/teachers", files={"file": ("bert.zip", archive)},
                          data={"name": "bert", "format": "huggingface"})
    assert teacher.status_code == 201, teacher.text
    rows = "\n".join(json.dumps({"text": f"the cat sat on mat {i % 7}", "label": ["negative", "neutral", "positive"][i % 3]})
                     for i in range(30)).encode()
    sets = []
    for name in ("a", "b"):  # the same bytes twice: two sets
        r = client.post("/v1/transfer-sets", files={"file": ("t.jsonl", rows)}, data={"name": name})
        assert r.status_code == 201, r.text
        sets.append(r.json()["id"])
    return teacher.json()["id"], *sets


def _load(teacher_id: str, set_id: str, cache: TeacherOutputCache, **info):
    with session_scope() as s:
        teacher, ts = s.get(Teacher, teacher_id), s.get(TransferSet, set_id)
        teacher.arch_config = {**teacher.arch_config, **info}  # not committed: what a differently keyed teacher holds
        s.expunge(teacher)
        s.expunge(ts)
    return load_text_data(ts, teacher, get_store(), cache)


def test_token_ids_are_cached_by_set_tokenizer_and_max_length(client, archive, tmp_path, monkeypatch):
    teacher_id, first, second = _upload(client, archive)
    cache = TeacherOutputCache(tmp_path / "text_ids")
    calls = []
    encode = models.text.tokens.encode_texts
    monkeypatch.setattr(models.text.tokens, "encode_texts", lambda *a, **k: calls.append(1) or encode(*a, **k))

    built = _load(teacher_id, first, cache)
    assert len(calls) == 2  # train and test tokenized
    assert built.x_train.dtype == np.int64 and built.x_train.shape == (24, 16) and built.x_test.shape == (6, 16)
    assert len(list((tmp_path / "text_ids").rglob("*.safetensors"))) == 1

    again = _load(teacher_id, first, cache)
    assert len(calls) == 2  # read from the cache
    np.testing.assert_array_equal(again.x_train, built.x_train)
    np.testing.assert_array_equal(again.x_test, built.x_test)
    np.testing.assert_array_equal(again.y_train, built.y_train)

    _load(teacher_id, second, cache)  # another set, the same bytes
    _load(teacher_id, first, cache, max_length=8)
    _load(teacher_id, first, cache, tokenizer_sha256="0" * 64)
    assert len(calls) == 8 and len(list((tmp_path / "text_ids").rglob("*.safetensors"))) == 4
    assert _load(teacher_id, first, cache, max_length=8).x_train.shape == (24, 8) and len(calls) == 8
