"""Transfer-set formats: the built-in digits set and uploaded ``.npz`` files.

Each becomes a :class:`TransferData` of float32 inputs (int64 or bool where an .npz's inputs are integers or
booleans: ids for a teacher that embeds them) and optional int64 labels, with a train part (what the student
learns from) and a test part (where results are measured).
"""

import io
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from models.sizing import MAX_NUM_CLASSES

BUILTINS = ("digits",)
HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 0
DIGITS_TEST_SIZE = 360


# What an uploaded .npz may hold, checked from its zip directory and .npy headers before any array is
# decompressed (the API passes the DISTILLERY_NPZ_MAX_BYTES and DISTILLERY_ARCHIVE_MAX_RATIO settings).
NPZ_MAX_BYTES = 2 * 1024**3
NPZ_MAX_RATIO = 200.0
RATIO_FLOOR = 1024**2  # a member unpacking to less than this is small whatever its ratio
NPY_MAX_HEADER = 10_000  # numpy's own bound on a header it parses safely
ARRAY_NAMES = ("x", "y", "x_test", "y_test")
NUMERIC_KINDS = "biufc"
# What each array becomes once loaded: inputs are float32 (integer inputs int64, bool ones stay), labels
# int64. A conversion holds both copies at once, so an array that needs one counts as its decoded bytes
# plus its converted bytes.
CONVERTED = {"x": np.dtype(np.float32), "x_test": np.dtype(np.float32), "y": np.dtype(np.int64),
             "y_test": np.dtype(np.int64)}
_INPUT_IDS = {"b": None, "i": np.dtype(np.int64), "u": np.dtype(np.int64)}
FINITE_CHUNK = 1 << 20  # elements converted at a time when only checking, never the whole array


class TransferSetInvalid(ValueError):
    """The data is not a usable transfer set; the message says what to fix."""


class TransferSetTooLarge(TransferSetInvalid):
    """The data would take more memory or expand more than the limits allow."""


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

    @property
    def dtype(self) -> str:
        """What the samples are, by the names of ``models.input_dtypes``."""
        from models.input_dtypes import data_dtype

        return data_dtype(self.x_train) if isinstance(self.x_train, np.ndarray) else "float32"


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


def load_npz(path: Path, *, max_bytes: int = NPZ_MAX_BYTES, max_ratio: float = NPZ_MAX_RATIO) -> TransferData:
    arrays = read_npz(path, ARRAY_NAMES, max_bytes=max_bytes, max_ratio=max_ratio, converted=CONVERTED)
    x = _inputs(arrays["x"], "x", max_bytes)
    y = _labels(arrays.get("y"), "y", len(x))
    if "y_test" in arrays and "x_test" not in arrays:
        raise TransferSetInvalid("'y_test' is given without 'x_test'")
    if "x_test" in arrays:
        x_test = _inputs(arrays["x_test"], "x_test", max_bytes)
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


def _check_inputs(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim < 2 or len(a) == 0:
        raise TransferSetInvalid(f"'{name}' must be shaped [N, ...] with N > 0; it is shaped {list(a.shape)}")
    if a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer):
        return a
    if not np.issubdtype(a.dtype, np.floating):
        raise TransferSetInvalid(f"'{name}' must be numeric (float, integer or bool); it has dtype {a.dtype}")
    flat = a.reshape(-1)  # float64 beyond float32's range becomes infinite when converted
    for start in range(0, flat.size, FINITE_CHUNK):
        if not np.isfinite(flat[start:start + FINITE_CHUNK].astype(np.float32)).all():
            raise TransferSetInvalid(f"'{name}' contains NaN or infinite values (in float32)")
    return a


def _inputs(a: np.ndarray, name: str, max_bytes: int = NPZ_MAX_BYTES) -> np.ndarray:
    a = _check_inputs(a, name)
    if a.dtype == np.bool_:
        return a
    if np.issubdtype(a.dtype, np.integer):
        # ids stay integers (a teacher that embeds them needs them exact); as int64, within the same bound
        if a.size * 8 > max_bytes:
            raise TransferSetTooLarge(f"'{name}' holds {a.size} integers, {a.size * 8} bytes as int64, more than "
                                      f"the limit of {max_bytes} bytes (DISTILLERY_NPZ_MAX_BYTES)")
        return a.astype(np.int64)
    return a.astype(np.float32)


def _labels(a: np.ndarray | None, name: str, n: int) -> np.ndarray | None:
    if a is None:
        return None
    if not np.issubdtype(a.dtype, np.integer):
        raise TransferSetInvalid(f"'{name}' must hold integer class labels; it has dtype {a.dtype}")
    if a.ndim != 1 or len(a) != n:
        raise TransferSetInvalid(f"'{name}' must be shaped [{n}] to match its inputs; it is shaped {list(a.shape)}")
    if len(a) and a.min() < 0:
        raise TransferSetInvalid(f"'{name}' holds negative labels; classes are numbered from 0")
    # Compared in the labels' own dtype, before the cast: a uint64 2**64-1 would become -1, and an int64 max
    # would make a class count no database column holds.
    if len(a) and a.max() >= MAX_NUM_CLASSES:
        raise TransferSetInvalid(f"'{name}' holds the label {a.max()}; labels are class numbers from 0 to "
                                 f"{MAX_NUM_CLASSES - 1}")
    return a.astype(np.int64)


# -- reading an .npz without trusting it ------------------------------------------------------------------

# Everything zipfile and zlib raise on a damaged or hostile archive (bad CRC, truncated streams, unknown
# compression methods, encryption, lying zip64 records).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
               struct.error, OverflowError, KeyError, IndexError, UnicodeDecodeError)


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int


def read_npz(path: Path, names: tuple[str, ...], *, max_bytes: int, max_ratio: float,
             converted: dict[str, np.dtype] | None = None) -> dict[str, np.ndarray]:
    """The arrays ``names`` that the .npz at ``path`` holds. Every member's zip record and .npy header are
    checked against each other and against the limits before a byte of array data is decompressed; an array
    that ``converted`` gives another dtype counts its converted bytes too."""
    with open(path, "rb") as f:
        if f.read(6) == npy_format.MAGIC_PREFIX:
            raise TransferSetInvalid("the file is a single .npy array, not an .npz archive; save the arrays with "
                                     "numpy.savez(file, x=inputs, y=labels)")
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise TransferSetInvalid(f"the file is not a readable .npz archive (a zip of .npy arrays, as numpy.savez "
                                 f"writes): {_reason(exc)}") from None
    with zf:
        infos = _members_by_name(zf)
        if "x" not in infos:
            raise TransferSetInvalid(f"the .npz must hold an array 'x' (inputs); it holds {sorted(infos) or 'nothing'}")
        members = {name: _check_member(zf, infos[name], name, max_bytes, max_ratio) for name in names if name in infos}
        costs = {n: m.nbytes + _conversion_bytes(m, (converted or {}).get(n)) for n, m in members.items()}
        total = sum(costs.values())
        if total > max_bytes:
            sizes = ", ".join(f"'{n}' {list(m.shape)} {m.dtype} = {m.nbytes} bytes"
                              + (f" + {costs[n] - m.nbytes} as {_becomes(m, converted[n])}"
                                 if costs[n] != m.nbytes else "")
                              for n, m in members.items())
            raise TransferSetTooLarge(f"the arrays take {total} bytes decoded and converted ({sizes}), more than the "
                                      f"limit of {max_bytes} bytes (DISTILLERY_NPZ_MAX_BYTES); upload fewer or "
                                      "smaller samples")
        return {name: _read_member(zf, m, name) for name, m in members.items()}


def _becomes(member: "_Member", dtype: np.dtype | None) -> np.dtype | None:
    """What an array is converted to: integer and bool inputs are kept as :func:`_inputs` keeps them."""
    if dtype == np.float32 and member.dtype.kind in "biu":
        return _INPUT_IDS[member.dtype.kind]
    return dtype


def _conversion_bytes(member: "_Member", dtype: np.dtype | None) -> int:
    dtype = _becomes(member, dtype)
    if dtype is None or member.dtype == dtype:
        return 0
    return math.prod(member.shape) * dtype.itemsize


def _reason(exc: Exception) -> str:
    # Messages of zipfile and zlib name no path (we open by path, never report it).
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _members_by_name(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    # numpy names an array by its member's name without '.npy': 'x.npy' and 'x' are both 'x'.
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename.removesuffix(".npy")
        if name in infos:
            raise TransferSetInvalid(f"the .npz holds the array {name!r} twice; save each array once")
        infos[name] = info
    return infos


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, max_bytes: int, max_ratio: float
                  ) -> _Member:
    if info.flag_bits & 0x1:
        raise TransferSetInvalid(f"the array {name!r} is encrypted; save the .npz without a password")
    if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
        raise TransferSetTooLarge(
            f"the array {name!r} expands from {info.compress_size} to {info.file_size} bytes, more than "
            f"{max_ratio:g} times (DISTILLERY_ARCHIVE_MAX_RATIO); such data is not a useful transfer set")
    if info.file_size > max_bytes + NPY_MAX_HEADER + 64:
        raise TransferSetTooLarge(f"the array {name!r} unpacks to {info.file_size} bytes, more than the limit of "
                                  f"{max_bytes} bytes (DISTILLERY_NPZ_MAX_BYTES)")
    try:
        with zf.open(info) as fp:
            shape, dtype, offset = _read_npy_header(fp, name)
    except TransferSetInvalid:
        raise
    except _ZIP_ERRORS as exc:
        raise TransferSetInvalid(f"the array {name!r} cannot be read, the file is damaged ({_reason(exc)}); "
                                 "save it again") from None
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > max_bytes:
        raise TransferSetTooLarge(f"the array {name!r} is {list(shape)} of {dtype} = {nbytes} bytes, more than the "
                                  f"limit of {max_bytes} bytes (DISTILLERY_NPZ_MAX_BYTES)")
    if info.file_size != offset + nbytes:
        raise TransferSetInvalid(f"the array {name!r} holds {info.file_size - offset} bytes of data but its header "
                                 f"describes {list(shape)} of {dtype} = {nbytes} bytes; the file is damaged, save "
                                 "it again")
    return _Member(info, shape, dtype, nbytes)


def _read_npy_header(fp, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, offset of the data) from the start of a .npy stream; refuses what numpy would need
    pickle for, and a header too long to parse safely, before reading it."""
    prefix = fp.read(8)
    if len(prefix) < 8 or prefix[:6] != npy_format.MAGIC_PREFIX:
        raise TransferSetInvalid(f"the member {name!r} is not a .npy array; save the .npz with numpy.savez")
    version = (prefix[6], prefix[7])
    if version not in ((1, 0), (2, 0)):
        raise TransferSetInvalid(f"the array {name!r} uses .npy format version {version[0]}.{version[1]}; "
                                 "save it with numpy.savez (versions 1.0 and 2.0 are read)")
    length_format = "<H" if version == (1, 0) else "<I"
    raw_length = fp.read(struct.calcsize(length_format))
    if len(raw_length) != struct.calcsize(length_format):
        raise TransferSetInvalid(f"the array {name!r} is cut short; save the .npz again")
    (length,) = struct.unpack(length_format, raw_length)
    if length > NPY_MAX_HEADER:
        raise TransferSetInvalid(f"the array {name!r} has a header of {length} bytes; numpy writes a few hundred")
    header = fp.read(length)
    read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    try:
        shape, _fortran, dtype = read_header(io.BytesIO(raw_length + header), max_header_size=NPY_MAX_HEADER)
    except Exception as exc:  # numpy's parse of tenant bytes raises more kinds than it documents (TokenError)
        raise TransferSetInvalid(f"the array {name!r} has a damaged .npy header: {_reason(exc)}") from None
    if dtype.hasobject:
        raise TransferSetInvalid(f"the array {name!r} holds object arrays, which are not accepted (they would "
                                 "need unpickling); save numeric arrays")
    if dtype.kind not in NUMERIC_KINDS or dtype.itemsize == 0:
        raise TransferSetInvalid(f"the array {name!r} has dtype {dtype}; only numeric arrays are accepted")
    if any(d < 0 for d in shape):
        raise TransferSetInvalid(f"the array {name!r} has a negative dimension in its shape {list(shape)}")
    return tuple(shape), dtype, 8 + len(raw_length) + length


def _read_member(zf: zipfile.ZipFile, member: _Member, name: str) -> np.ndarray:
    try:
        with zf.open(member.info) as fp:
            array = npy_format.read_array(fp, allow_pickle=False, max_header_size=NPY_MAX_HEADER)
            if fp.read(1):  # the rest, which also makes zipfile check the member's CRC
                raise TransferSetInvalid(f"the array {name!r} has bytes after its data; save the .npz again")
    except TransferSetInvalid:
        raise
    except _ZIP_ERRORS as exc:
        raise TransferSetInvalid(f"the array {name!r} cannot be read, the file is damaged ({_reason(exc)}); "
                                 "save it again") from None
    return array
