"""Transfer-set formats: the built-in digits set and uploaded ``.npz`` files.

Each becomes a :class:`TransferData` of float32 inputs and optional int64 labels, with a
train part (what the student learns from) and a test part (where results are measured).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BUILTINS = ("digits",)
HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 0
DIGITS_TEST_SIZE = 360


class TransferSetInvalid(ValueError):
    """The data is not a usable transfer set; the message says what to fix."""


@dataclass
class TransferData:
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    class_names: list[str] | None = None

    @property
    def sample_shape(self) -> list[int]:
        return list(self.x_train.shape[1:])

    @property
    def labelled(self) -> bool:
        return self.y_train is not None

    @property
    def num_classes(self) -> int | None:
        labels = [y for y in (self.y_train, self.y_test) if y is not None and len(y)]
        return int(max(int(y.max()) for y in labels)) + 1 if labels else None

    @property
    def num_test(self) -> int:
        return 0 if self.x_test is None else len(self.x_test)


def load_builtin(name: str) -> TransferData:
    if name != "digits":
        raise TransferSetInvalid(f"unknown built-in transfer set {name!r}; available: {', '.join(BUILTINS)}")
    from sklearn.datasets import load_digits

    # The split is fixed so that every job on 'digits' is measured on the same 360 images.
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.RandomState(SPLIT_SEED).permutation(len(x))
    test, train = order[:DIGITS_TEST_SIZE], order[DIGITS_TEST_SIZE:]
    return TransferData(x[train], y[train], x[test], y[test])


def load_npz(path: Path) -> TransferData:
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise TransferSetInvalid(f"the file is not a readable .npz archive ({type(exc).__name__})") from None
    with archive:
        keys = set(archive.files)
        if "x" not in keys:
            raise TransferSetInvalid(f"the .npz must hold an array 'x' (inputs); it holds {sorted(keys) or 'nothing'}")
        try:
            arrays = {k: archive[k] for k in ("x", "y", "x_test", "y_test") if k in keys}
        except ValueError as exc:
            raise TransferSetInvalid(f"the .npz holds object arrays, which are not accepted: {exc}") from None
    x = _inputs(arrays["x"], "x")
    y = _labels(arrays.get("y"), "y", len(x))
    if "y_test" in arrays and "x_test" not in arrays:
        raise TransferSetInvalid("'y_test' is given without 'x_test'")
    if "x_test" in arrays:
        x_test = _inputs(arrays["x_test"], "x_test")
        if x_test.shape[1:] != x.shape[1:]:
            raise TransferSetInvalid(
                f"'x_test' samples are shaped {list(x_test.shape[1:])} but 'x' samples are {list(x.shape[1:])}"
            )
        y_test = _labels(arrays.get("y_test"), "y_test", len(x_test))
        return TransferData(x, y, x_test, y_test)
    if y is None:
        return TransferData(x, None, None, None)
    order = np.random.RandomState(SPLIT_SEED).permutation(len(x))
    n_test = int(round(len(x) * HOLDOUT_FRACTION))
    if n_test == 0 or n_test == len(x):
        return TransferData(x, y, None, None)
    test, train = order[:n_test], order[n_test:]
    return TransferData(x[train], y[train], x[test], y[test])


def _inputs(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim < 2 or len(a) == 0:
        raise TransferSetInvalid(f"'{name}' must be shaped [N, ...] with N > 0; it is shaped {list(a.shape)}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TransferSetInvalid(f"'{name}' must be numeric (float); it has dtype {a.dtype}")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise TransferSetInvalid(f"'{name}' contains NaN or infinite values")
    return a


def _labels(a: np.ndarray | None, name: str, n: int) -> np.ndarray | None:
    if a is None:
        return None
    if not np.issubdtype(a.dtype, np.integer):
        raise TransferSetInvalid(f"'{name}' must hold integer class labels; it has dtype {a.dtype}")
    if a.ndim != 1 or len(a) != n:
        raise TransferSetInvalid(f"'{name}' must be shaped [{n}] to match its inputs; it is shaped {list(a.shape)}")
    if len(a) and a.min() < 0:
        raise TransferSetInvalid(f"'{name}' holds negative labels; classes are numbered from 0")
    return a.astype(np.int64)
