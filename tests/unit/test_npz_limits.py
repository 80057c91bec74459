"""Uploaded .npz files are checked from their zip directory and .npy headers before anything is
decompressed: what they claim is bounded, what is damaged is a 422, and nothing hostile is a 500."""

import io
import struct
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import get_settings
from models.transfer_sets import TransferSetInvalid, TransferSetTooLarge, load_npz
from tests.mutations import mutated as mutated_bytes
from tests.unit.test_api import assert_problem, counts, npz_bytes, stored_files


def npy_header(shape, descr="<f4", version=(1, 0)) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - len(header) % 64) + b"\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header


def zip_of(members: dict[str, bytes] | list[tuple[str, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names, which is the point
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in members.items() if isinstance(members, dict) else members:
                zf.writestr(name, data)
    return buf.getvalue()


def assert_no_server_path(body: dict) -> None:
    text = str(body)
    for path in (get_settings().resolved_artifact_dir.parent, "/tmp/", "/work/"):
        assert str(path) not in text, text


def upload(client, data: bytes, filename="s.npz"):
    return client.post("/v1/transfer-sets", files={"file": (filename, data)}, data={"name": "hostile"})


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 1 MB of .npz whose 'x' inflates to 1 GiB of zeros (written in chunks: memory stays small)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("x.npy", "w", force_zip64=True) as f:
            f.write(npy_header((2**28 // 64, 64)))
            zeros = bytes(2**20)
            for _ in range(1024):
                f.write(zeros)
    return buf.getvalue()


def test_a_tiny_npz_claiming_4_tib_is_413_before_reading(client):
    data = zip_of({"x.npy": npy_header((2**40 // 4, 1))})
    assert len(data) < 400
    body = assert_problem(upload(client, data), 413, "DISTILLERY_NPZ_MAX_BYTES", "'x'")
    assert_no_server_path(body)
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_an_npz_bomb_is_refused_by_its_ratio_before_decompressing(client, bomb):
    assert len(bomb) < 2 * 1024**2
    assert_no_server_path(assert_problem(upload(client, bomb), 413, "DISTILLERY_ARCHIVE_MAX_RATIO", "'x'"))
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_an_npz_bomb_within_the_ratio_is_refused_by_its_decoded_size(client, bomb, monkeypatch):
    monkeypatch.setenv("DISTILLERY_ARCHIVE_MAX_RATIO", "100000")
    monkeypatch.setenv("DISTILLERY_NPZ_MAX_BYTES", str(64 * 1024**2))
    get_settings.cache_clear()
    assert_problem(upload(client, bomb), 413, "DISTILLERY_NPZ_MAX_BYTES", str(64 * 1024**2))


def test_arrays_over_the_decoded_limit_are_413(client, monkeypatch):
    monkeypatch.setenv("DISTILLERY_NPZ_MAX_BYTES", "900")
    get_settings.cache_clear()
    data = npz_bytes(x=np.zeros((20, 10), np.float32), y=np.arange(20))  # 800 + 160 bytes
    assert_problem(upload(client, data), 413, "960 bytes", "DISTILLERY_NPZ_MAX_BYTES")
    ok = npz_bytes(x=np.zeros((20, 10), np.float32))
    assert upload(client, ok).status_code == 201


def test_a_npy_uploaded_as_npz_is_422_saying_what_to_do(client):
    buf = io.BytesIO()
    np.save(buf, np.zeros((4, 4), np.float32))
    assert_problem(upload(client, buf.getvalue()), 422, ".npy", "numpy.savez", field="file")


def test_an_npz_with_a_bad_crc_is_422(client):
    x = np.full((8, 4), 7.0, np.float32)
    data = bytearray(npz_bytes(x=x))
    at = bytes(data).index(x.tobytes())
    data[at] ^= 0xFF
    assert_no_server_path(assert_problem(upload(client, bytes(data)), 422, "'x'", "damaged", field="file"))
    assert counts()["transfer_sets"] == 0 and stored_files() == []


@pytest.mark.parametrize("names", [["x.npy", "x.npy"], ["x.npy", "x"], ["x.npy", "y.npy", "y.npy"]])
def test_duplicated_members_are_422(client, names):
    arrays = {"x": np.zeros((4, 2), np.float32), "y": np.arange(4)}
    members = []
    for name in names:
        buf = io.BytesIO()
        np.save(buf, arrays[name.removesuffix(".npy")])
        members.append((name, buf.getvalue()))
    assert_problem(upload(client, zip_of(members)), 422, "twice", field="file")


@pytest.mark.parametrize("member, words", [
    (npy_header((4, 2), descr="|O"), ["object arrays"]),
    (npy_header((4, 2), descr="<U5"), ["numeric"]),
    (npy_header((4, 2), version=(3, 0)), ["version 3.0"]),
    (npy_header((-4, 2)), ["negative"]),
    (npy_header((4, 2)), ["holds 0 bytes", "32 bytes", "damaged"]),  # the header claims data that is not there
    (npy_header((4, 2)) + bytes(64), ["holds 64 bytes", "32 bytes"]),
    (b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 100, ["header of 65535 bytes"]),
    (b"\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}", ["damaged .npy header"]),
    (b"PK not numpy", ["not a .npy array"]),
])
def test_damaged_members_are_422_naming_the_array(tmp_path, member, words):
    p = tmp_path / "a.npz"
    p.write_bytes(zip_of({"x.npy": member}))
    with pytest.raises(TransferSetInvalid) as caught:
        load_npz(p)
    assert not isinstance(caught.value, TransferSetTooLarge)
    for w in words:
        assert w in str(caught.value), (w, str(caught.value))
    assert "'x'" in str(caught.value)


def test_compressed_npz_still_loads(tmp_path):
    p = tmp_path / "a.npz"
    np.savez_compressed(p, x=np.random.rand(50, 4), y=np.arange(50) % 2)
    d = load_npz(p)
    assert len(d.x_train) == 40 and d.num_test == 10


# -- property tests: whatever the bytes, the reader answers with its own error ---------------------------

def _valid_npz() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.random.RandomState(0).rand(6, 3), y=np.arange(6) % 2)
    return buf.getvalue()


VALID = npz_bytes(x=np.arange(24, dtype=np.float32).reshape(8, 3), y=np.arange(8) % 3)
VALID_COMPRESSED = _valid_npz()


def mutated(original: bytes):
    return mutated_bytes(original, (b"\xff\xff\xff\xff\xff\xff\xff\x7f", b"{'descr': '|O'"))


def _only_reader_errors(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("npz") / "a.npz"
    p.write_bytes(data)
    try:
        load_npz(p, max_bytes=16 * 1024**2)
    except TransferSetInvalid:
        pass


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_only_raise_transfer_set_invalid(tmp_path_factory, data):
    _only_reader_errors(tmp_path_factory, data)


@PROPERTY
@given(data=st.one_of(mutated(VALID), mutated(VALID_COMPRESSED)))
def test_mutated_npz_only_raise_transfer_set_invalid(tmp_path_factory, data):
    _only_reader_errors(tmp_path_factory, data)
