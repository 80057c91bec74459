"""``POST /v1/transfer-sets`` with a ``.csv`` or ``.parquet`` file: the table is parsed in a limited child
process (models/table_reader.py) into an ``.npz``, checked by the same bounded reader as an uploaded one, and
that ``.npz`` is what the store keeps: workers never parse a tenant's table."""

import json

from app.problems import Problem, invalid
from app.quotas import check_storage
from app.services.kept_uploads import keep_upload
from core.ids import new_id
from core.tables import TransferSet
from models.table_reader import TABLE_FORMATS, TableLimits, read_table
from models.transfer_sets import TransferSetInvalid, TransferSetTooLarge, load_npz

MAX_FEATURE_COLUMNS_TEXT = 1_000_000


def table_format(filename: str) -> str | None:
    name = filename.lower()
    return next((fmt for suffix, fmt in TABLE_FORMATS.items() if name.endswith(suffix)), None)


def parse_feature_columns(raw) -> list[str] | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None
    try:
        columns = json.loads(raw) if isinstance(raw, str) and len(raw) <= MAX_FEATURE_COLUMNS_TEXT else None
    except json.JSONDecodeError:
        columns = None
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns) \
            or len(set(columns)) != len(columns):
        raise invalid('feature_columns must be a JSON list of distinct column names, e.g. ["age", "income"]',
                      field="feature_columns")
    return columns


def limits_of(settings) -> TableLimits:
    return TableLimits(max_rows=settings.table_max_rows, max_columns=settings.table_max_columns,
                       max_bytes=settings.npz_max_bytes, memory_bytes=settings.table_reader_memory_bytes,
                       seconds=settings.table_reader_seconds)


def create_table(session, store, settings, upload, name: str, tenant: str, form, row) -> TransferSet:
    """The transfer set's row, its arrays committed to the store; ``row`` builds a row from TransferData."""
    fmt = table_format(upload.filename or "") or "csv"  # kind=table with another name: read as CSV
    label_column = form.get("label_column") or None
    if label_column is not None and (not isinstance(label_column, str) or len(label_column) > 1000):
        raise invalid("label_column must be a column name", field="label_column")
    features = parse_feature_columns(form.get("feature_columns"))
    ts_id = new_id("transfer_set")
    key = f"transfer_sets/{ts_id}.npz"
    with store.stage(upload.file, limit=settings.max_upload_bytes, suffix=f".{fmt}") as staged, \
            store.staging_path(".npz") as arrays:
        if staged.size_bytes == 0:
            raise invalid("the uploaded file is empty", field="file")
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            read = read_table(staged.path, fmt, arrays, label_column=label_column, feature_columns=features,
                              limits=limits_of(settings))
            data = load_npz(arrays, max_bytes=settings.npz_max_bytes, max_ratio=settings.archive_max_ratio)
        except TransferSetTooLarge as exc:
            raise Problem(413, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        except TransferSetInvalid as exc:
            raise invalid(str(exc), field=getattr(exc, "field", "file"), kind="invalid-transfer-set") from None
        data.class_names = read.class_names
        with open(arrays, "rb") as f, store.stage(f, suffix=".npz") as kept:
            # what is kept is the converted arrays: they are what keep_upload counts
            ts = row(name, "table", data, tenant_id=tenant, class_names=read.class_names,
                     spec={"format": fmt, "label_column": read.label_column, "feature_columns": read.feature_columns,
                           "split_column": read.split_column, "source_sha256": staged.sha256,
                           "source_bytes": staged.size_bytes})
            ts.id = ts_id
            keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=kept)
    return ts
