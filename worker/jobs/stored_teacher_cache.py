"""The teacher-output cache of a worker whose store is an object store: entries live in the bucket
(``cache/teacher_outputs/…``), so that every worker reuses them, and a bounded local copy of those it used
(the engine's TeacherOutputCache, under the local cache directory) spares downloading them again.

With a directory store the engine's cache sits in the store's own folder, as before: nothing to mirror.
The bucket's entries are bounded by the same DISTILLERY_TEACHER_CACHE_MAX_BYTES: after an upload the least
recently used are removed past it. A use, a local hit included, dates the bucket's object anew (a server-side
copy onto itself), at most once an hour per entry and process: a hot entry costs one copy an hour rather than
one per job, and a versioned bucket gathers few old versions. A removed entry is only a miss, rebuilt by the
next job that needs it.
"""

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from core.config import get_settings
from core.store import ArtifactMissing, ArtifactStore
from worker.engine.teacher_cache import TeacherOutputCache

PREFIX = "cache/teacher_outputs"
log = logging.getLogger(__name__)


def teacher_output_cache(store: ArtifactStore, max_bytes: int) -> TeacherOutputCache:
    if store.local:
        return TeacherOutputCache(store.root / PREFIX, max_bytes=max_bytes)
    local = min(max_bytes, get_settings().local_cache_max_bytes)
    return StoredTeacherCache(get_settings().resolved_local_cache_dir / "teacher_outputs", local, store, max_bytes)


class StoredTeacherCache(TeacherOutputCache):
    MARK_USED_EVERY = 3600.0  # seconds between re-datings of one entry by one process
    _marked: dict[str, float] = {}  # entry -> when this process last dated it; shared by the process's caches

    def __init__(self, root: Path, local_max_bytes: int, store: ArtifactStore, store_max_bytes: int):
        super().__init__(root, max_bytes=local_max_bytes)
        self.store = store
        self.store_max_bytes = store_max_bytes

    def _key(self, key: str) -> str:
        return f"{PREFIX}/{key[:2]}/{key}.safetensors"

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        hit = super().get(key)
        if hit is not None:
            self._used(key)
            return hit
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own: another worker on the host may be fetching the same entry at the same moment.
        fd, name = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(fd)
        part = Path(name)
        try:
            self.store.download(self._key(key), part)
            part.replace(path)
        except ArtifactMissing:
            return None
        except Exception as exc:  # a cache: the bucket out of reach costs a teacher pass, not the job
            log.warning("teacher-output cache: could not fetch an entry (%s); computing it", type(exc).__name__)
            return None
        finally:
            part.unlink(missing_ok=True)
        if self.max_bytes is not None:
            self.evict(keep=path)
        self._used(key)
        return super().get(key)

    def _used(self, key: str) -> None:
        """Marks the bucket's entry as just used, which is what its eviction orders by."""
        last = self._marked.get(key)
        if last is not None and time.monotonic() - last < self.MARK_USED_EVERY:
            return
        self._marked[key] = time.monotonic()
        try:
            self.store.touch(self._key(key))
        except ArtifactMissing:  # another worker evicted it meanwhile: this local copy still serves
            pass
        except Exception as exc:  # a cache: an entry dated wrongly is at worst evicted early
            log.warning("teacher-output cache: could not mark an entry as used (%s)", type(exc).__name__)

    def put(self, key: str, tensors: dict[str, torch.Tensor]) -> None:
        super().put(key, tensors)
        path = self.path(key)
        if not path.is_file():  # larger than the cache's limit: not kept anywhere
            return
        with self.store.staging_path(".safetensors") as staged:
            shutil.copyfile(path, staged)
            self.store.commit(staged, self._key(key))
        self._marked[key] = time.monotonic()  # just written: dated now
        self._evict_stored(keep=self._key(key))

    def _evict_stored(self, keep: str) -> None:
        entries = sorted(self.store.objects(PREFIX + "/"), key=lambda o: o.modified)
        total = sum(o.size_bytes for o in entries)
        for obj in entries:
            if total <= self.store_max_bytes:
                break
            if obj.key != keep:
                self.store.delete(obj.key)
                total -= obj.size_bytes
                log.info("teacher-output cache: removed %s from the store to stay under %d bytes", obj.key,
                         self.store_max_bytes)
