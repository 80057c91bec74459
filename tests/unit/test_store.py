"""The artifact store: files appear whole or not at all."""

import io

import pytest

from app.store import ArtifactStore, UploadTooLarge


class DropsHalfway(io.RawIOBase):
    """A request body whose connection breaks after some bytes."""

    def __init__(self, good: int):
        self.left = good

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left <= 0:
            raise ConnectionResetError("the client went away")
        chunk = min(self.left, 4096 if n < 0 else n)
        self.left -= chunk
        return b"x" * chunk


def files_in(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_an_interrupted_upload_leaves_no_file(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(ConnectionResetError), store.stage(DropsHalfway(3 * 1024 * 1024)) as staged:
        store.commit(staged.path, "teachers/never.pt")
    assert files_in(tmp_path) == []


def test_an_oversized_upload_stops_at_the_limit_and_leaves_no_file(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(UploadTooLarge), store.stage(io.BytesIO(b"y" * 5000), limit=4096):
        pass
    assert files_in(tmp_path) == []


def test_a_committed_file_is_whole_and_hashed(tmp_path):
    import hashlib

    store = ArtifactStore(tmp_path)
    data = b"z" * 3_000_000
    with store.stage(io.BytesIO(data)) as staged:
        assert staged.sha256 == hashlib.sha256(data).hexdigest() and staged.size_bytes == len(data)
        store.commit(staged.path, "students/a.pt")
    assert store.path("students/a.pt").read_bytes() == data
    assert files_in(tmp_path) == ["students/a.pt"]
    with pytest.raises(ValueError, match="escapes"):
        store.path("../outside")
