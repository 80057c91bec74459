"""Tabular transfer sets: a ``.csv`` or ``.parquet`` file read into the arrays of an ``.npz``.

People with gradient-boosted or random-forest teachers keep their data in tables. An uploaded table is
parsed by pyarrow in a child process (``python -m models.table_reader``) under memory, CPU-time and file-size
limits, so a file that decodes to more than it admits costs the API nothing but a 413. The child checks the
sizes it can know before reading (a Parquet footer's rows, columns and uncompressed bytes; a CSV's columns
from its first block, then its rows as they stream), converts the columns and writes x, y, x_test, y_test
as an ``.npz``, which the API then reads with its own bounded reader (``models.transfer_sets.load_npz``).

Columns: ``label_column`` (default ``label``; absent: the set is unlabelled) holds class numbers or names;
a ``split`` column of ``train``/``test`` gives the test split; every other column, or the
``feature_columns`` listed, is a numeric feature, in file order.
"""

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from models.transfer_sets import TransferSetInvalid, TransferSetTooLarge

TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
SPLIT_COLUMN = "split"
SPLIT_VALUES = ("train", "test")
BLOCK_BYTES = 1 << 20
_SHOWN = 60  # characters of a tenant's value quoted back in an error


@dataclass(frozen=True)
class TableLimits:
    max_rows: int = 2_000_000
    max_columns: int = 10_000
    max_bytes: int = 2 * 1024**3  # the features once decoded (8 bytes a cell at most)
    memory_bytes: int = 4 * 1024**3
    seconds: float = 300.0


@dataclass(frozen=True)
class TableRead:
    feature_columns: list[str]
    label_column: str | None  # None: unlabelled
    split_column: str | None
    class_names: list[str] | None  # labels that were names, in the order of their class numbers


def read_table(path: Path, fmt: str, out: Path, *, label_column: str | None = None,
               feature_columns: list[str] | None = None, limits: TableLimits = TableLimits()) -> TableRead:
    """Parse the table at ``path`` in a limited child process and write its arrays to ``out`` (.npz).
    ``label_column`` None means the default ``label``, which may be absent; a named one must exist."""
    request = {"path": str(path), "format": fmt, "out": str(out), "label_column": label_column,
               "feature_columns": feature_columns, "limits": limits.__dict__}
    answer = _in_child(request, limits)
    return TableRead(answer["feature_columns"], answer["label_column"], answer["split_column"],
                     answer["class_names"])


def parquet_as_json_lines(path: Path, out: Path, columns: list[str], limits: TableLimits = TableLimits()) -> None:
    """The Parquet file's ``columns`` (those of them it has) written to ``out`` as JSON lines, one object a row,
    by the same limited child: a text set's Parquet upload, then read as any ``.jsonl`` one."""
    _in_child({"path": str(path), "format": "parquet", "out": str(out), "json_lines": columns,
               "limits": limits.__dict__}, limits)


def _in_child(request: dict, limits: TableLimits) -> dict:
    code_parent = str(Path(__file__).resolve().parent.parent)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([sys.executable, "-s", "-B", "-m", "models.table_reader"], input=json.dumps(request),
                              capture_output=True, text=True, timeout=limits.seconds, cwd=code_parent, env=env)
    except subprocess.TimeoutExpired:
        raise TransferSetTooLarge(f"the table took longer than {limits.seconds:g} s to read "
                                  "(DISTILLERY_TABLE_READER_SECONDS); upload fewer rows") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    answer = json.loads(lines[-1]) if lines else None
    if answer is None:
        if done.returncode != 0:
            raise TransferSetTooLarge(
                f"reading the table needed more than its limits ({limits.memory_bytes // 2**20} MiB of memory, "
                f"{limits.seconds:g} s; DISTILLERY_TABLE_READER_MEMORY_BYTES); upload fewer rows or columns")
        raise TransferSetInvalid("the table could not be read")
    if not answer.get("ok"):
        error = TransferSetTooLarge if answer.get("too_large") else TransferSetInvalid
        exc = error(answer.get("error", "the table could not be read"))
        exc.field = answer.get("field", "file")  # type: ignore[attr-defined]
        raise exc
    return answer


# -- in the child process -------------------------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, message: str, field: str = "file", too_large: bool = False):
        super().__init__(message)
        self.field, self.too_large = field, too_large


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _check_size(rows: int, columns: int, limits: dict) -> None:
    if columns > limits["max_columns"]:
        raise _Refused(f"the table has {columns} columns, more than the limit of {limits['max_columns']} "
                       "(DISTILLERY_TABLE_MAX_COLUMNS)", too_large=True)
    if rows > limits["max_rows"]:
        raise _Refused(f"the table has more than {limits['max_rows']} rows (DISTILLERY_TABLE_MAX_ROWS); upload "
                       "fewer", too_large=True)
    if rows * columns * 8 > limits["max_bytes"]:
        raise _Refused(f"the table's {rows} rows of {columns} columns take more than the limit of "
                       f"{limits['max_bytes']} bytes once decoded (DISTILLERY_NPZ_MAX_BYTES)", too_large=True)


def _read_parquet(path: str, limits: dict):
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(path)
        meta = f.metadata
    except Exception as exc:
        raise _Refused(f"the file is not a readable Parquet file ({type(exc).__name__}); write it with "
                       "pandas.DataFrame.to_parquet or pyarrow.parquet.write_table") from None
    _check_size(meta.num_rows, meta.num_columns, limits)
    decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if decoded > limits["max_bytes"]:
        raise _Refused(f"the Parquet file's data takes {decoded} bytes uncompressed, more than the limit of "
                       f"{limits['max_bytes']} bytes (DISTILLERY_NPZ_MAX_BYTES)", too_large=True)
    try:
        return f.read()
    except Exception as exc:
        raise _Refused(f"the Parquet file's data cannot be read, it is damaged ({type(exc).__name__})") from None


def _read_csv(path: str, limits: dict):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(block_size=BLOCK_BYTES)
    try:
        with open(path, "rb") as fh:  # a file object, so no decompression is guessed from a name
            names = pcsv.open_csv(fh, read_options=read).schema.names
        _check_size(0, len(names), limits)
        # Every cell as text first: a column's type is decided from all its values, not the first block's.
        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                      null_values=[""])  # "n/a" and "NA" are values to name, not gaps
        batches, rows = [], 0
        with open(path, "rb") as fh:
            for batch in pcsv.open_csv(fh, read_options=read, convert_options=convert):
                rows += batch.num_rows
                _check_size(rows, len(names), limits)
                batches.append(batch)
    except _Refused:
        raise
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise _Refused(f"the file is not a readable CSV table ({first}); write it with a header row, e.g. "
                       "pandas.DataFrame.to_csv(path, index=False)") from None
    if not batches:
        raise _Refused("the CSV file has a header but no rows")
    return pa.Table.from_batches(batches)


def _first_null(column) -> int:
    import pyarrow.compute as pc

    return int(pc.index(pc.is_null(column), True).as_py())


def _as_numbers(column, name: str):
    """A column as a numpy array of int64, float64 or bool; a 422 naming the column and its first bad value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if column.null_count:
        raise _Refused(f"feature column {name!r} has an empty value in data row {_first_null(column) + 1}; fill "
                       "or drop it", field="file")
    t = column.type
    if pa.types.is_boolean(t):
        return column.to_numpy(zero_copy_only=False).astype(bool)
    if pa.types.is_integer(t):
        return column.to_numpy(zero_copy_only=False).astype(np.int64)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        stripped = pc.utf8_trim_whitespace(column)
        for target in (pa.int64(), pa.float64()):
            try:
                return _as_numbers(stripped.cast(target), name)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        lowered = pc.utf8_lower(stripped)
        if bool(pc.all(pc.is_in(lowered, pa.array(["true", "false"]))).as_py()):
            return pc.equal(lowered, "true").to_numpy(zero_copy_only=False).astype(bool)
        for row, value in enumerate(stripped.to_pylist()):
            try:
                float(value)
            except (TypeError, ValueError):
                raise _Refused(f"feature column {name!r} is not numeric: data row {row + 1} holds {_shown(value)}; "
                               "features must be numbers (encode categories as integer ids), or leave the column "
                               "out with feature_columns", field="file") from None
    first = column[0].as_py() if len(column) else None
    raise _Refused(f"feature column {name!r} holds {t} values (the first is {_shown(first)}), not numbers; leave it "
                   "out with feature_columns", field="feature_columns")


def _labels(column, name: str):
    import numpy as np
    import pyarrow as pa

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if column.null_count:
        raise _Refused(f"label column {name!r} has an empty value in data row {_first_null(column) + 1}; every "
                       "row of a labelled set needs its class", field="label_column")
    try:
        values = _as_numbers(column, name)
    except _Refused:
        values = None
    if values is not None:
        if values.dtype == np.float64 and not np.all(values == np.round(values)):
            raise _Refused(f"label column {name!r} holds fractional numbers; labels are class numbers (0, 1, ...) "
                           "or class names", field="label_column")
        labels = values.astype(np.int64)
        if len(labels) and labels.min() < 0:
            raise _Refused(f"label column {name!r} holds negative class numbers; classes are numbered from 0",
                           field="label_column")
        return labels, None
    names = [str(v) for v in column.to_pylist()]
    classes = sorted(set(names))  # scikit-learn's order of classes_
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in names], dtype=np.int64), classes


def _convert(table, request: dict) -> dict:
    import numpy as np

    names = list(table.column_names)
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise _Refused(f"the table has two columns named {dup!r}; name each column once")
    asked_label = request.get("label_column")
    label = asked_label or "label"
    if asked_label and label not in names:
        raise _Refused(f"label_column {label!r} is not a column of the table; its columns are {names[:50]}",
                       field="label_column")
    label = label if label in names else None
    split = SPLIT_COLUMN if SPLIT_COLUMN in names and SPLIT_COLUMN != label else None
    features = request.get("feature_columns")
    if features is None:
        features = [n for n in names if n not in (label, split)]
    else:
        unknown = [f for f in features if f not in names]
        if unknown:
            raise _Refused(f"feature_columns names {unknown[:10]}, which are not columns of the table; its columns "
                           f"are {names[:50]}", field="feature_columns")
        if label in features:
            raise _Refused(f"the label column {label!r} cannot also be a feature", field="feature_columns")
    if not features:
        raise _Refused("the table has no feature columns (every column is the label or the split)",
                       field="feature_columns")
    columns = [_as_numbers(table.column(f), f) for f in features]
    kinds = {c.dtype.kind for c in columns}
    if kinds <= {"b"}:
        x = np.stack(columns, axis=1)
    elif kinds <= {"b", "i"}:
        x = np.stack([c.astype(np.int64) for c in columns], axis=1)
    else:
        x = np.stack([c.astype(np.float32) for c in columns], axis=1)
        bad = ~np.isfinite(x).all(axis=0)
        if bad.any():
            raise _Refused(f"feature column {features[int(bad.nonzero()[0][0])]!r} holds NaN or infinite values; "
                           "fill or drop them")
    y, classes = _labels(table.column(label), label) if label else (None, None)
    arrays = {"x": x, **({"y": y} if y is not None else {})}
    if split:
        values = [str(v).strip().lower() if v is not None else None for v in table.column(split).to_pylist()]
        wrong = next((i for i, v in enumerate(values) if v not in SPLIT_VALUES), None)
        if wrong is not None:
            raise _Refused(f"the {SPLIT_COLUMN!r} column must say 'train' or 'test'; data row {wrong + 1} holds "
                           f"{_shown(table.column(split)[wrong].as_py())}", field="file")
        test = np.array([v == "test" for v in values])
        if test.all() or not test.any():
            raise _Refused(f"the {SPLIT_COLUMN!r} column must mark some rows 'train' and some 'test'")
        arrays = {"x": x[~test], "x_test": x[test]}
        if y is not None:
            arrays |= {"y": y[~test], "y_test": y[test]}
    np.savez(request["out"], **arrays)
    return {"ok": True, "feature_columns": features, "label_column": label, "split_column": split,
            "class_names": classes}


def _json_lines(table, request: dict) -> dict:
    names = list(table.column_names)
    keep = [c for c in dict.fromkeys(request["json_lines"]) if c in names]
    with open(request["out"], "w", encoding="utf-8") as f:
        for batch in table.select(keep).to_batches(max_chunksize=1024):
            for row in batch.to_pylist():
                # default=str: a date or a decimal label reads as its text, as it would from a CSV
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return {"ok": True}


def main() -> int:
    request = json.loads(sys.stdin.read())
    limits = request["limits"]
    for which, value in ((resource.RLIMIT_DATA, int(limits["memory_bytes"])),
                         (resource.RLIMIT_CPU, int(limits["seconds"]) + 1),
                         (resource.RLIMIT_FSIZE, int(limits["max_bytes"]) * 2 + (1 << 20)),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # malloc, so RLIMIT_DATA bounds every allocation
    try:
        import pyarrow as pa

        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
        read = _read_parquet if request["format"] == "parquet" else _read_csv
        table = read(request["path"], limits)
        answer = _json_lines(table, request) if "json_lines" in request else _convert(table, request)
    except _Refused as exc:
        answer = {"ok": False, "error": str(exc), "field": exc.field, "too_large": exc.too_large}
    except MemoryError:
        answer = {"ok": False, "error": f"reading the table needed more than {limits['memory_bytes'] // 2**20} MiB "
                  "of memory (DISTILLERY_TABLE_READER_MEMORY_BYTES); upload fewer rows or columns",
                  "too_large": True}
    print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
