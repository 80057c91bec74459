"""The artifact store: files named by key, in a local directory or an object store (core/store_backends.py).
SQL keeps each artifact's key and sha256; reads check the bytes against it.

Every write is staged locally first, checked, and only then committed (a rename, or an upload): a refused or
interrupted upload leaves nothing in the store, and an object store sees no write before the commit. Reads go
through ``open_local``, which hands back a local file: the store's own file for a directory, or a copy in the
process's bounded local cache (core/local_cache.py) for an object store.
"""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from core.config import get_settings
from core.local_cache import LocalCache, entry_name
from core.store_backends import DirectoryBackend, ObjectBackend, StoredObject

CHUNK = 1024 * 1024
STAGING = ".staging"  # inside a directory store, so that a commit is a rename on one filesystem


class UploadTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


class ArtifactMissing(Exception):
    """A key a row names is not in the store (removed by hand, or a store that lost it)."""

    def __init__(self, key: str):
        super().__init__(f"the stored file {key} is missing from the artifact store")
        self.key = key


class ArtifactCorrupt(Exception):
    """The bytes read do not hash to the sha256 recorded when the file was stored."""

    def __init__(self, key: str, expected: str, got: str):
        super().__init__(f"the stored file {key} does not match the sha256 recorded when it was stored (expected "
                         f"{expected[:12]}…, read {got[:12]}…): it was changed or damaged in the artifact store, "
                         "and is refused")
        self.key = key


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size_bytes: int


def check_key(key: str) -> str:
    # Split by hand: PurePosixPath drops "." and empty parts, so "./" would pass as the store's root.
    parts = key.removesuffix("/").split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ValueError(f"artifact key escapes the store: {key!r}")
    return key


class ArtifactStore:
    def __init__(self, backend: DirectoryBackend | ObjectBackend, *, cache: LocalCache,
                 staging: Path | None = None):
        self.backend = backend
        self.cache = cache
        if staging is None:
            if not isinstance(backend, DirectoryBackend):
                raise ValueError("an object store needs a local staging directory")
            staging = backend.root / STAGING
        self._staging = Path(staging).resolve()
        self._staging.mkdir(parents=True, exist_ok=True)
        self._verified: dict[str, tuple[int, int, str]] = {}  # key -> (mtime_ns, size, sha256), directory only

    @property
    def local(self) -> bool:
        return self.backend.local

    @property
    def root(self) -> Path:
        """A directory store's folder (tests and the legacy unpacked archives only)."""
        if not isinstance(self.backend, DirectoryBackend):
            raise AttributeError("an object store has no local root")
        return self.backend.root

    def path(self, key: str) -> Path:
        """A directory store's file for ``key``; readers use ``open_local``, which works on both kinds."""
        return self.root / check_key(key)

    # writing

    @contextmanager
    def stage(self, source: BinaryIO, *, limit: int | None = None, suffix: str = "") -> Iterator[StagedFile]:
        """Copy a stream to a staging file, hashing as it goes; the file is removed on exit
        unless it was committed meanwhile."""
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
    def staging_path(self, suffix: str = "", *, folder: bool = False) -> Iterator[Path]:
        """A fresh local path (a file, or an empty folder) for the caller to write; removed on exit."""
        if folder:
            path = Path(tempfile.mkdtemp(dir=self._staging, suffix=suffix))
        else:
            fd, name = tempfile.mkstemp(dir=self._staging, suffix=suffix)
            os.close(fd)
            path = Path(name)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

    def commit(self, staged: Path, key: str) -> None:
        """Moves a finished, checked staging file into the store under ``key``; the staging file is gone after."""
        self.backend.put(staged, check_key(key))

    def delete(self, key: str) -> None:
        self.backend.delete(check_key(key))

    def touch(self, key: str) -> None:
        """Dates ``key`` as modified now, so that age-ordered eviction (``objects``' ``modified``) treats it as
        just used. Raises ArtifactMissing when it is not stored."""
        try:
            self.backend.touch(check_key(key))
        except FileNotFoundError:
            raise ArtifactMissing(key) from None

    def delete_prefix(self, prefix: str) -> None:
        """Every file whose key starts with the folder ``prefix``."""
        self.backend.delete_prefix(check_key(prefix.rstrip("/")) + "/")

    # reading

    def exists(self, key: str) -> bool:
        return self.backend.exists(check_key(key))

    def objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """Every stored file (never the staging area), with its size and age."""
        for obj in self.backend.objects(prefix):
            if not obj.key.startswith(STAGING + "/"):
                yield obj

    def open_local(self, key: str, sha256: str | None = None) -> Path:
        """A local file with the bytes of ``key``, checked against ``sha256`` when given. Raises
        ArtifactMissing or ArtifactCorrupt; a corrupt download is not kept."""
        check_key(key)
        if isinstance(self.backend, DirectoryBackend):
            path = self.backend.path(key)
            if not path.is_file():
                raise ArtifactMissing(key)
            if sha256:
                self._verify_in_place(key, path, sha256)
            return path
        return self.cache.fetch(entry_name(key), lambda dest: self._download(key, dest, sha256))

    def download(self, key: str, dest: Path, sha256: str | None = None) -> None:
        """The bytes of ``key`` into ``dest`` (a path the caller owns), checked when ``sha256`` is given."""
        self._download(check_key(key), dest, sha256)

    def unpacked(self, key: str, sha256: str | None, unpack: Callable[[Path, Path], object]) -> Path:
        """A local folder holding ``key`` unpacked by ``unpack(file, folder)``, kept in the local cache."""
        return self.cache.fetch("unpacked-" + entry_name(key),
                                lambda dest: unpack(self.open_local(key, sha256), dest))

    def sweep_staging(self, cutoff: float) -> list[str]:
        """Removes this process's staging files older than ``cutoff`` (left by a crash); returns their names."""
        removed = []
        for path in self._staging.iterdir():
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            removed.append(f"{STAGING}/{path.name}")
        return removed

    def _download(self, key: str, dest: Path, sha256: str | None) -> None:
        try:
            self.backend.get(key, dest)
        except FileNotFoundError:
            Path(dest).unlink(missing_ok=True)
            raise ArtifactMissing(key) from None
        if sha256:
            got = sha256_of(dest)
            if got != sha256:
                Path(dest).unlink(missing_ok=True)
                raise ArtifactCorrupt(key, sha256, got)

    def _verify_in_place(self, key: str, path: Path, sha256: str) -> None:
        # A directory store's file is hashed once per change, not on every read.
        st = path.stat()
        if self._verified.get(key) == (st.st_mtime_ns, st.st_size, sha256):
            return
        got = sha256_of(path)
        if got != sha256:
            raise ArtifactCorrupt(key, sha256, got)
        self._verified[key] = (st.st_mtime_ns, st.st_size, sha256)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def store_options(settings) -> dict:
    """fsspec options for an object store URL: endpoint, region and keys from settings; unset ones fall back
    to the standard AWS_* variables and files, as boto does."""
    client: dict = {}
    if settings.s3_region:
        client["region_name"] = settings.s3_region
    options: dict = {"client_kwargs": client} if client else {}
    if settings.s3_endpoint_url:
        options["endpoint_url"] = settings.s3_endpoint_url
    if settings.s3_access_key_id:
        options["key"] = settings.s3_access_key_id
    if settings.s3_secret_access_key:
        options["secret"] = settings.s3_secret_access_key.get_secret_value()
    return options


@lru_cache
def get_store() -> ArtifactStore:
    """This process's store (one filesystem client and one local cache for all its requests and jobs)."""
    return open_store(get_settings())


def open_store(settings) -> ArtifactStore:
    """The store the settings name (DISTILLERY_ARTIFACT_URL), with this process's local cache."""
    # files/ beside teacher_outputs/ (worker/jobs/stored_teacher_cache.py): each part keeps its own bound.
    cache = LocalCache(settings.resolved_local_cache_dir / "files", settings.local_cache_max_bytes)
    url = settings.resolved_artifact_url
    if "://" in url and not url.startswith("file://"):
        backend = ObjectBackend(url, options=store_options(settings), block_size=settings.s3_block_size)
        return ArtifactStore(backend, cache=cache, staging=settings.var_dir / "staging")
    return ArtifactStore(DirectoryBackend(Path(url.removeprefix("file://"))), cache=cache)
