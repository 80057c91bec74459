"""Archives that are malformed or expand too much are a 4xx, never a 500, and leave nothing behind."""

import gzip
import io
import tarfile
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import get_settings
from models.archives import ArchiveInvalid, ArchiveTooLarge, extract_archive
from tests.mutations import mutated as mutated_bytes
from tests.unit.test_api import assert_problem, counts, stored_files
from tests.unit.test_image_transfer_sets import png, tar_bytes, tar_file
from tests.unit.test_npz_limits import assert_no_server_path


def zip_of(entries: list[tuple[str, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def with_nul_in_name(data: bytes, name: bytes) -> bytes:
    """The zip with 'X' in ``name`` replaced by NUL, in the local and the central header alike."""
    return data.replace(name, name.replace(b"X", b"\0"))


def bad_utf8_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        info = tarfile.TarInfo("a/\udcff.png")  # written as the raw byte 0xff: not UTF-8
        info.size = 3
        tf.addfile(info, io.BytesIO(b"png"))
    return buf.getvalue()


MALFORMED = [
    ("dup.zip", zip_of([("a/1.png", png()), ("a/1.png", png())]), "twice"),
    ("dot.zip", zip_of([(".", png())]), "no name"),
    ("long.zip", zip_of([("a/" + "n" * 300 + ".png", png())]), "longer than 255"),
    ("deep.zip", zip_of([("/".join(["d" * 200] * 8) + "/1.png", png())]), "1024 in all"),
    ("file-then-dir.zip", zip_of([("a", png()), ("a/b.png", png())]), "both as a file and as a folder"),
    ("dir-then-file.zip", zip_of([("a/b.png", png()), ("a", png())]), "both as a file and as a folder"),
    ("dir-entry-then-file.zip", zip_of([("a/", b""), ("a", png())]), "both as a file and as a folder"),
    ("file-then-dir.tar", tar_bytes(lambda tf: (tar_file(tf, "a", png()), tar_file(tf, "a/b.png", png()))),
     "both as a file and as a folder"),
    ("dup.tar", tar_bytes(lambda tf: (tar_file(tf, "a/1.png", png()), tar_file(tf, "a/1.png", png()))), "twice"),
    ("long.tar", tar_bytes(lambda tf: tar_file(tf, "a/" + "n" * 300 + ".png", png())), "longer than 255"),
    ("bad-utf8.tar", bad_utf8_tar(), "not valid UTF-8"),
]


@pytest.mark.parametrize("name, data, words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_archives_are_422_naming_the_entry(client, name, data, words):
    r = client.post("/v1/transfer-sets", files={"file": (name, data)}, data={"name": "x", "kind": "image_archive"})
    assert_no_server_path(assert_problem(r, 422, words, field="file"))
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_nul_in_a_zip_name_is_422(client):
    data = with_nul_in_name(zip_of([("a/1.png", png()), ("a/2X.png", png())]), b"a/2X.png")
    r = client.post("/v1/transfer-sets", files={"file": ("nul.zip", data)}, data={"name": "x"})
    assert_problem(r, 422, "NUL", field="file")
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_a_tar_root_folder_entry_is_fine(tmp_path):
    def add(tf):
        root = tarfile.TarInfo(".")
        root.type = tarfile.DIRTYPE
        tf.addfile(root)
        tar_file(tf, "./a/1.png", png())

    archive = tmp_path / "t.tar"
    archive.write_bytes(tar_bytes(add))
    extract_archive(archive, tmp_path / "out", max_files=10, max_bytes=10**6)
    assert (tmp_path / "out" / "a" / "1.png").is_file()


def test_a_zip_bomb_is_refused_by_ratio_before_decompressing(tmp_path):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(zip_of([("a/zeros.png", bytes(20 * 1024**2))], zipfile.ZIP_DEFLATED))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ArchiveTooLarge, match="DISTILLERY_ARCHIVE_MAX_RATIO"):
        extract_archive(bomb, tmp_path / "out", max_files=10, max_bytes=10**12, max_ratio=200)
    assert not (tmp_path / "out").exists()


def test_a_tar_gz_bomb_is_cut_off_by_ratio_while_writing(tmp_path):
    raw = tar_bytes(lambda tf: tar_file(tf, "a/zeros.png", bytes(20 * 1024**2)))
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(raw))
    with pytest.raises(ArchiveTooLarge, match="200 times its size"):
        extract_archive(bomb, tmp_path / "out", max_files=10, max_bytes=10**12, max_ratio=200)
    assert not (tmp_path / "out").exists()


def test_the_ratio_setting_answers_413_through_the_api(client, monkeypatch):
    monkeypatch.setenv("DISTILLERY_ARCHIVE_MAX_RATIO", "2")
    get_settings.cache_clear()
    data = zip_of([("a/zeros.png", bytes(3 * 1024**2))], zipfile.ZIP_DEFLATED)
    r = client.post("/v1/transfer-sets", files={"file": ("z.zip", data)}, data={"name": "x"})
    assert_problem(r, 413, "DISTILLERY_ARCHIVE_MAX_RATIO")
    assert counts()["transfer_sets"] == 0 and stored_files() == []


def test_well_compressed_small_archives_pass_the_ratio(tmp_path):
    small = tmp_path / "small.zip"
    small.write_bytes(zip_of([("a/zeros.png", bytes(512 * 1024))], zipfile.ZIP_DEFLATED))
    extract_archive(small, tmp_path / "out", max_files=10, max_bytes=10**9, max_ratio=2)
    assert (tmp_path / "out" / "a" / "zeros.png").stat().st_size == 512 * 1024


# -- property tests: whatever the bytes, the reader answers with its own error ---------------------------

VALID_ZIP = zip_of([("a/1.png", png()), ("b/", b""), ("b/2.png", png() * 3)], zipfile.ZIP_DEFLATED)
VALID_TAR = tar_bytes(lambda tf: (tar_file(tf, "a/1.png", png()), tar_file(tf, "b/2.png", png())))
VALID_TGZ = gzip.compress(VALID_TAR)


def mutated(original: bytes):
    return mutated_bytes(original, (b"/", b"..", b"\x00", b"5", b"2"))


def _only_archive_errors(tmp_path_factory, data: bytes) -> None:
    work = tmp_path_factory.mktemp("archive")
    path = work / "upload"
    path.write_bytes(data)
    try:
        extract_archive(path, work / "out", max_files=50, max_bytes=10 * 1024**2, max_ratio=200)
    except ArchiveInvalid:
        assert not (work / "out").exists()
        return
    # What was extracted stays inside the destination.
    out = (work / "out").resolve()
    for p in out.rglob("*"):
        assert out in p.resolve().parents


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=st.one_of(mutated(VALID_ZIP), mutated(VALID_TAR), mutated(VALID_TGZ)))
def test_mutated_archives_only_raise_archive_invalid(tmp_path_factory, data):
    _only_archive_errors(tmp_path_factory, data)


@PROPERTY
@given(data=st.binary(max_size=1024))
def test_arbitrary_bytes_only_raise_archive_invalid(tmp_path_factory, data):
    _only_archive_errors(tmp_path_factory, data)
