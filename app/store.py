"""The artifact store: a directory of files named by key. SQL keeps each file's key and sha256.

Writes go to a temporary file first and are moved into place only once complete, so a reader
never sees half a file and a failed upload leaves nothing behind.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size_bytes: int


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._staging = self.root / ".staging"
        self._staging.mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if self.root not in target.parents:
            raise ValueError(f"artifact key escapes the store: {key!r}")
        return target

    @contextmanager
    def stage(self, source: BinaryIO, *, limit: int | None = None, suffix: str = "") -> Iterator[StagedFile]:
        """Copy a stream to a staging file, hashing as it goes; the file is removed on exit
        unless it was committed (moved) meanwhile."""
        fd, name = tempfile.mkstemp(dir=self._staging, suffix=suffix)
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise UploadTooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
            yield StagedFile(path=path, sha256=digest.hexdigest(), size_bytes=size)
        finally:
            path.unlink(missing_ok=True)

    @contextmanager
    def staging_path(self, suffix: str = "") -> Iterator[Path]:
        """A fresh path in the staging area for a file the caller writes; removed on exit."""
        fd, name = tempfile.mkstemp(dir=self._staging, suffix=suffix)
        os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def commit(self, staged: Path, key: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def copy_out(self, key: str, dest: Path) -> None:
        shutil.copyfile(self.path(key), dest)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
