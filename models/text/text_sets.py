"""Text transfer sets: raw texts (and optional labels) from a ``.jsonl`` or ``.csv`` upload, kept as texts.

The texts are tokenized only when a job runs, with its teacher's tokenizer (``worker/jobs/text_data.py``), so
one set serves teachers with different tokenizers. Reading is bounded while it happens: rows, characters per
text, bytes per line (the upload itself is bounded by DISTILLERY_MAX_UPLOAD_BYTES). Labels are class names
(mapped through the teacher's ``id2label`` at job submit) or class indices; a ``split`` column of
``train``/``test`` gives the test split, otherwise a fifth of a labelled set is held out, as for tabular sets.

What is kept is one JSON file: ``{"train": {"texts": [...], "labels": [...] | null}, "test": {...} | null}``.
"""

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.transfer_sets import HOLDOUT_FRACTION, SPLIT_SEED, TransferSetInvalid, TransferSetTooLarge

TEXT_SUFFIXES = (".jsonl", ".ndjson")
MAX_TEXT_CHARS = 100_000  # one text; a long document is cut to max_length tokens anyway
MAX_LINE_BYTES = 4 * MAX_TEXT_CHARS + 4096  # one JSON line: the text in UTF-8, escapes, the label
MAX_LABEL_CHARS = 200
EXAMPLES = 5  # rows of the train part shown with the set (the dashboard's set page)
EXAMPLE_CHARS = 200  # each example's text is cut to this many characters
SPLIT_COLUMN = "split"


class TextSetInvalid(TransferSetInvalid):
    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.field = field


class TextSetTooLarge(TextSetInvalid, TransferSetTooLarge):
    """More rows than allowed: a 413."""


@dataclass(frozen=True)
class TextSummary:
    num_samples: int
    num_test: int
    labelled: bool
    class_names: list[str] | None  # the label names, in order of first appearance, when labels are names
    num_classes: int | None  # when labels are indices: the largest plus one
    examples: list[dict]  # the first few training rows, {"text", "label"}, each text cut to EXAMPLE_CHARS


def _rows_jsonl(raw: io.BufferedReader):
    for number, line in enumerate(iter(lambda: raw.readline(MAX_LINE_BYTES + 1), b""), start=1):
        if len(line) > MAX_LINE_BYTES:
            raise TextSetInvalid(f"line {number} is longer than {MAX_LINE_BYTES} bytes; texts may have at most "
                                 f"{MAX_TEXT_CHARS} characters")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise TextSetInvalid(f"line {number} is not valid JSON: a .jsonl file holds one JSON object per line, "
                                 'e.g. {"text": "...", "label": "positive"}') from None
        if not isinstance(row, dict):
            raise TextSetInvalid(f"line {number} is not a JSON object")
        yield number, row


def _rows_csv(raw: io.BufferedReader):
    csv.field_size_limit(4 * MAX_TEXT_CHARS)
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        yield from enumerate(csv.DictReader(text), start=2)
    except csv.Error as exc:
        raise TextSetInvalid(f"the CSV cannot be read: {str(exc)[:200]}") from None
    except UnicodeDecodeError:
        raise TextSetInvalid("the CSV is not UTF-8 text") from None


def read_text_set(path: Path, fmt: str, out: Path, *, text_column: str = "text", label_column: str | None = None,
                  max_rows: int = 2_000_000) -> TextSummary:
    """Reads ``path`` (``jsonl`` or ``csv``), writes the kept JSON to ``out``, returns what it holds.
    ``label_column`` None: ``label`` if the rows have it; named: every row must have it."""
    texts: dict[str, list[str]] = {"train": [], "test": []}
    labels: dict[str, list] = {"train": [], "test": []}
    label_kind = None
    explicit = label_column is not None
    label_column = label_column or "label"
    labelled = None
    with open(path, "rb") as raw:
        rows = _rows_jsonl(raw) if fmt == "jsonl" else _rows_csv(raw)
        for count, (number, row) in enumerate(rows, start=1):
            if count > max_rows:
                raise TextSetTooLarge(f"the set has more than {max_rows} rows (DISTILLERY_TABLE_MAX_ROWS)")
            text = row.get(text_column)
            if not isinstance(text, str):
                if count == 1 and text is None:
                    raise TextSetInvalid(f"the rows have no {text_column!r} column: name the texts' column in "
                                         "text_column", "text_column")
                raise TextSetInvalid(f"row {number}: {text_column!r} must be a string of text")
            if len(text) > MAX_TEXT_CHARS:
                raise TextSetInvalid(f"row {number}: the text has {len(text)} characters, more than "
                                     f"{MAX_TEXT_CHARS}")
            split = "train"
            if SPLIT_COLUMN in row and SPLIT_COLUMN != text_column and SPLIT_COLUMN != label_column:
                split = str(row[SPLIT_COLUMN]).strip().lower()
                if split not in ("train", "test"):
                    raise TextSetInvalid(f"row {number}: {SPLIT_COLUMN!r} must be 'train' or 'test'")
            has_label = row.get(label_column) not in (None, "")
            if labelled is None:
                labelled = has_label or explicit
                if explicit and not has_label:
                    raise TextSetInvalid(f"the rows have no {label_column!r} column", "label_column")
            if labelled:
                if not has_label:
                    raise TextSetInvalid(f"row {number} has no {label_column!r}: label every row, or none")
                value, kind = _label(row[label_column], number, fmt)
                if label_kind is None:
                    label_kind = kind
                elif kind != label_kind:
                    raise TextSetInvalid(f"row {number}: labels must be all class names or all class indices")
                labels[split].append(value)
            texts[split].append(text)
    if not texts["train"]:
        raise TextSetInvalid("the set has no training texts")
    if labelled and not texts["test"]:
        texts, labels = _holdout(texts["train"], labels["train"])
    kept = {"train": {"texts": texts["train"], "labels": labels["train"] if labelled else None},
            "test": ({"texts": texts["test"], "labels": labels["test"] if labelled else None}
                     if texts["test"] else None)}
    out.write_text(json.dumps(kept, ensure_ascii=False))
    every = labels["train"] + labels["test"]
    names = list(dict.fromkeys(every)) if labelled and label_kind == "name" else None
    return TextSummary(num_samples=len(texts["train"]), num_test=len(texts["test"]), labelled=bool(labelled),
                       class_names=names,
                       num_classes=(max(every) + 1) if labelled and label_kind == "index" else None,
                       examples=_examples(kept["train"]))


def _examples(train: dict) -> list[dict]:
    labels = train["labels"] or [None] * len(train["texts"])
    return [{"text": text[:EXAMPLE_CHARS], "label": label}
            for text, label in zip(train["texts"][:EXAMPLES], labels[:EXAMPLES], strict=True)]


def _label(value, number: int, fmt: str):
    if isinstance(value, bool):
        raise TextSetInvalid(f"row {number}: a label is a class name or a class index, not a boolean")
    if isinstance(value, int) or (fmt == "csv" and isinstance(value, str) and value.strip().isdigit()):
        index = int(value)
        if not 0 <= index < 100_000:
            raise TextSetInvalid(f"row {number}: class indices run from 0")
        return index, "index"
    if isinstance(value, str) and 0 < len(value) <= MAX_LABEL_CHARS:
        return value, "name"
    raise TextSetInvalid(f"row {number}: a label is a class name (text of at most {MAX_LABEL_CHARS} characters) or "
                         "a class index")


def _holdout(texts: list[str], labels: list):
    order = np.random.RandomState(SPLIT_SEED).permutation(len(texts))
    n_test = int(round(len(texts) * HOLDOUT_FRACTION))
    if n_test == 0 or n_test == len(texts):
        return {"train": texts, "test": []}, {"train": labels, "test": []}
    test, train = sorted(order[:n_test]), sorted(order[n_test:])
    return ({"train": [texts[i] for i in train], "test": [texts[i] for i in test]},
            {"train": [labels[i] for i in train], "test": [labels[i] for i in test]})


def load_text_set(path: Path) -> dict:
    """The kept JSON, as written by ``read_text_set``."""
    return json.loads(Path(path).read_text())
