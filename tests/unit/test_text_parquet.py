"""Text sets from Parquet (issue 27): a .parquet file with kind=text is decoded by the tables' limited child
process into JSON lines and then read as any .jsonl set, with the same columns, splits and refusals."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.unit.test_api import assert_problem, counts, stored_files
from tests.unit.test_text_api import upload_texts


def parquet(columns: dict, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, **options)
    return buffer.getvalue()


def test_a_parquet_text_set_with_names_a_split_and_another_text_column(client):
    content = parquet({"sentence": ["good cat", "bad dog", "good mat", "bad roof"],
                       "label": ["positive", "negative", "positive", "negative"],
                       "split": ["train", "train", "train", "test"], "ignored": [1, 2, 3, 4]})
    r = upload_texts(client, content, "t.parquet", kind="text", text_column="sentence")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["num_samples"], body["num_test"]) == ("text", 3, 1)
    assert body["class_names"] == ["positive", "negative"] and body["spec"]["format"] == "parquet"


def test_integer_labels_of_a_parquet_set_are_class_indices(client):
    content = parquet({"text": [f"text {i}" for i in range(10)], "label": [i % 3 for i in range(10)]})
    r = upload_texts(client, content, "t.pq", kind="text")
    assert r.status_code == 201, r.text
    assert (r.json()["num_classes"], r.json()["class_names"], r.json()["num_test"]) == (3, None, 2)


@pytest.mark.parametrize("content, fields, words, field", [
    (parquet({"body": ["x"]}), {}, ("'text'", "text_column"), "text_column"),
    (parquet({"text": [1, 2]}), {}, ("string",), "file"),
    (parquet({"text": ["x"]}), {"label_column": "y"}, ("'y'",), "label_column"),
    (b"PAR1 not really parquet PAR1", {}, ("not a readable Parquet file",), "file"),
])
def test_parquet_text_set_refusals(client, content, fields, words, field, tmp_path):
    r = upload_texts(client, content, "t.parquet", kind="text", **fields)
    assert_problem(r, 422, *words, field=field)
    assert str(tmp_path.parent) not in r.text and "/tmp/" not in r.text
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_a_parquet_text_set_over_the_row_limit_is_a_413(client, monkeypatch):
    from core.config import get_settings

    monkeypatch.setenv("DISTILLERY_TABLE_MAX_ROWS", "5")
    get_settings.cache_clear()
    r = upload_texts(client, parquet({"text": [f"t {i}" for i in range(6)]}), "t.parquet", kind="text")
    assert r.status_code == 413, r.text
    assert "DISTILLERY_TABLE_MAX_ROWS" in r.text and counts()["transfer_sets"] == 0
