"""What the API records of an uploaded .npz, read in a bounded child (``models.bounded``): the same checks
as :func:`models.transfer_sets.load_npz`, without converting whole arrays or splitting them."""

from pathlib import Path

import numpy as np

from models.input_dtypes import data_dtype
from models.transfer_sets import (
    ARRAY_NAMES,
    CONVERTED,
    HOLDOUT_FRACTION,
    NPZ_MAX_BYTES,
    NPZ_MAX_RATIO,
    TransferSetInvalid,
    TransferSetTooLarge,
    _check_inputs,
    _labels,
    read_npz,
)


def summarise_npz(path: str, *, max_bytes: int = NPZ_MAX_BYTES, max_ratio: float = NPZ_MAX_RATIO) -> dict:
    """Counts, shape and classes; the split is the one :func:`load_npz` makes."""
    arrays = read_npz(Path(path), ARRAY_NAMES, max_bytes=max_bytes, max_ratio=max_ratio, converted=CONVERTED)
    x = _check_inputs(arrays["x"], "x")
    _check_id_bytes(x, "x", max_bytes)
    y = _labels(arrays.get("y"), "y", len(x))
    if "y_test" in arrays and "x_test" not in arrays:
        raise TransferSetInvalid("'y_test' is given without 'x_test'")
    n, n_test, y_test = len(x), 0, None
    if "x_test" in arrays:
        x_test = _check_inputs(arrays["x_test"], "x_test")
        _check_id_bytes(x_test, "x_test", max_bytes)
        if x_test.shape[1:] != x.shape[1:]:
            raise TransferSetInvalid(
                f"'x_test' samples are shaped {list(x_test.shape[1:])} but 'x' samples are {list(x.shape[1:])}"
            )
        y_test = _labels(arrays.get("y_test"), "y_test", len(x_test))
        n_test = len(x_test)
    elif y is not None:
        held = int(round(n * HOLDOUT_FRACTION))
        if 0 < held < n:
            n, n_test = n - held, held
    labels = [a for a in (y, y_test) if a is not None and len(a)]
    return {"num_samples": n, "num_test": n_test, "sample_shape": list(x.shape[1:]), "labelled": y is not None,
            "dtype": "float32" if np.issubdtype(x.dtype, np.floating) else data_dtype(x),
            "num_classes": max(int(a.max()) for a in labels) + 1 if labels else None}


def _check_id_bytes(a: np.ndarray, name: str, max_bytes: int) -> None:
    """Integer inputs stay integers (int64, 8 bytes each), not float32: bounded as what they become."""
    if np.issubdtype(a.dtype, np.integer) and a.size * 8 > max_bytes:
        raise TransferSetTooLarge(f"'{name}' holds {a.size} integers, {a.size * 8} bytes as int64, more than "
                                  f"the limit of {max_bytes} bytes (DISTILLERY_NPZ_MAX_BYTES)")
