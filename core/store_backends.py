"""Where the artifact store's bytes live: a local directory, or an object store reached through fsspec
(``s3://bucket/prefix`` on any S3-compatible service). Both take only whole files that are already written
and checked locally (``put``), so a refused or broken upload never reaches them.
"""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


@dataclass(frozen=True)
class StoredObject:
    key: str
    size_bytes: int
    modified: float  # seconds since the epoch: the orphan sweep's age


class DirectoryBackend:
    """Files under one directory; ``put`` is a rename, so a reader never sees half a file."""

    local = True

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return "a directory"

    def path(self, key: str) -> Path:
        return self.root / key

    def put(self, staged: Path, key: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(staged, target)
        except OSError:  # staged on another filesystem: copy beside the target, then rename
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(staged, tmp)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)
            Path(staged).unlink(missing_ok=True)

    def get(self, key: str, dest: Path) -> None:
        shutil.copyfile(self.path(key), dest)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
        self._prune(self.path(key).parent)

    def touch(self, key: str) -> None:
        os.utime(self.path(key))

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix.rstrip("/")), ignore_errors=True)
        self._prune(self.path(prefix.rstrip("/")).parent)

    def objects(self, prefix: str = "") -> Iterator[StoredObject]:
        top = self.path(prefix.rstrip("/")) if prefix else self.root
        for dirpath, _dirs, names in os.walk(top):
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except FileNotFoundError:  # removed while we walked
                    continue
                yield StoredObject(path.relative_to(self.root).as_posix(), st.st_size, st.st_mtime)

    def _prune(self, folder: Path) -> None:
        """Empty folders left by deletions go, up to the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


class ObjectBackend:
    """Objects under ``bucket/prefix`` of an fsspec filesystem (s3fs for ``s3://``).

    ``put`` sends a file of up to twice ``block_size`` in one PUT and a larger one as a multipart upload of
    ``block_size`` parts; either way the object appears only when the upload completes, so an interrupted one
    leaves nothing. The filesystem is made per process: an s3fs client made before a fork (Celery's prefork
    pool) must not be used after it.
    """

    local = False

    def __init__(self, url: str, *, options: dict, block_size: int):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ValueError(f"artifact URL {url!r} names no bucket; use s3://bucket or s3://bucket/prefix")
        self.protocol = parsed.scheme
        self.base = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
        self.options = options
        self.block_size = block_size
        self._fs = None
        self._pid = None

    def __repr__(self) -> str:
        return f"{self.protocol}://{self.base}"

    @property
    def fs(self):
        if self._fs is None or self._pid != os.getpid():
            import fsspec

            self._fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, use_listings_cache=False,
                                         **self.options)
            self._pid = os.getpid()
        return self._fs

    def _path(self, key: str) -> str:
        return f"{self.base}/{key}"

    def put(self, staged: Path, key: str) -> None:
        self.fs.put_file(str(staged), self._path(key), chunksize=self.block_size)
        Path(staged).unlink(missing_ok=True)

    def get(self, key: str, dest: Path) -> None:
        self.fs.get_file(self._path(key), str(dest))

    def exists(self, key: str) -> bool:
        try:
            return self.fs.isfile(self._path(key))
        except FileNotFoundError:
            return False

    def delete(self, key: str) -> None:
        try:
            self.fs.rm_file(self._path(key))
        except FileNotFoundError:
            pass

    def touch(self, key: str) -> None:
        # An object store keeps no access time, and an object's LastModified changes only when it is written:
        # a server-side copy onto itself with new metadata is that write, without sending its bytes again.
        self.fs.setxattr(self._path(key), last_used=str(int(time.time())))

    def delete_prefix(self, prefix: str) -> None:
        keys = [o.key for o in self.objects(prefix.rstrip("/") + "/")]
        if keys:
            self.fs.rm([self._path(k) for k in keys])

    def objects(self, prefix: str = "") -> Iterator[StoredObject]:
        try:
            found = self.fs.find(self._path(prefix) if prefix else self.base, detail=True)
        except FileNotFoundError:
            return
        for path, info in found.items():
            if info.get("type") == "directory":
                continue
            modified = info.get("LastModified") or info.get("mtime") or info.get("created") or 0
            modified = modified.timestamp() if hasattr(modified, "timestamp") else float(modified)
            yield StoredObject(path[len(self.base) + 1:], int(info.get("size") or 0), modified)
