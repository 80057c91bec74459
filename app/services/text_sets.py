"""``POST /v1/transfer-sets`` with a ``.jsonl`` file (or ``kind=text`` and a ``.csv`` or ``.parquet``): raw texts
and optional labels, read with bounds (models/text/text_sets.py) and kept as texts; a job tokenizes them with
its teacher's tokenizer. Fields: ``text_column`` (default ``text``), ``label_column`` (default ``label``). A
Parquet file is decoded by the tables' limited child process (models/table_reader.py) into JSON lines first,
so that pyarrow never reads a tenant's file in the API's own process."""

from app.problems import Problem, invalid
from app.quotas import check_storage
from app.services.kept_uploads import keep_upload
from app.services.table_sets import limits_of
from core.ids import new_id
from core.tables import TransferSet
from models.safe_text import text_problem
from models.table_reader import parquet_as_json_lines
from models.text.text_sets import SPLIT_COLUMN, TEXT_SUFFIXES, TextSetInvalid, TextSetTooLarge, read_text_set
from models.transfer_sets import TransferSetInvalid, TransferSetTooLarge

TEXT_KIND = "text"


def is_text_upload(filename: str) -> bool:
    return filename.lower().endswith(TEXT_SUFFIXES)


def _column(form, name: str, default: str | None) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) > 200 or text_problem(value):
        raise invalid(f"{name} must be a column name of at most 200 characters", field=name)
    return value


def _read(path, fmt: str, kept_path, store, settings, text_column: str, label_column: str | None):
    if fmt != "parquet":
        return read_text_set(path, fmt, kept_path, text_column=text_column, label_column=label_column,
                             max_rows=settings.table_max_rows)
    with store.staging_path(".jsonl") as lines:
        try:
            parquet_as_json_lines(path, lines, [text_column, label_column or "label", SPLIT_COLUMN],
                                  limits_of(settings))
        except TransferSetTooLarge as exc:
            raise TextSetTooLarge(str(exc)) from None
        except TransferSetInvalid as exc:
            raise TextSetInvalid(str(exc), getattr(exc, "field", "file")) from None
        # Parquet keeps types: an integer label column is indices, a string one names, as in JSON lines
        return read_text_set(lines, "jsonl", kept_path, text_column=text_column, label_column=label_column,
                             max_rows=settings.table_max_rows)


def create_text_set(session, store, settings, upload, name: str, tenant: str, form) -> TransferSet:
    filename = (upload.filename or "").lower()
    fmt = "csv" if filename.endswith(".csv") else "parquet" if filename.endswith((".parquet", ".pq")) else "jsonl"
    text_column = _column(form, "text_column", "text")
    label_column = _column(form, "label_column", None)
    ts_id = new_id("transfer_set")
    key = f"transfer_sets/{ts_id}.texts.json"
    with store.stage(upload.file, limit=settings.max_upload_bytes, suffix=f".{fmt}") as staged, \
            store.staging_path(".json") as kept_path:
        if staged.size_bytes == 0:
            raise invalid("the uploaded file is empty", field="file")
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            summary = _read(staged.path, fmt, kept_path, store, settings, text_column, label_column)
        except TextSetTooLarge as exc:
            raise Problem(413, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        except TextSetInvalid as exc:
            raise invalid(str(exc), field=exc.field, kind="invalid-transfer-set") from None
        with open(kept_path, "rb") as f, store.stage(f, suffix=".json") as kept:
            ts = TransferSet(id=ts_id, tenant_id=tenant, name=name, kind=TEXT_KIND, num_samples=summary.num_samples,
                             num_test=summary.num_test, sample_shape=[], num_classes=summary.num_classes,
                             labelled=summary.labelled, class_names=summary.class_names, dtype="text",
                             spec={"format": fmt, "text_column": text_column,
                                   "label_column": (label_column or "label") if summary.labelled else None,
                                   "labels": "names" if summary.class_names else
                                   ("indices" if summary.labelled else None),
                                   "source_sha256": staged.sha256, "source_bytes": staged.size_bytes,
                                   "examples": summary.examples})
            keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=kept)
    return ts
