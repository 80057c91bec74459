"""The teacher-output cache: a teacher's logits on a transfer set, computed once and reused across
epochs, jobs and sweep members.

Entries are content-addressed: the key hashes what determines the logits (the teacher file and how it
is loaded, the transfer set's content, the preprocessing), so a changed teacher or preprocessing can
never be served stale outputs. Each entry is one safetensors file, written atomically.

The cache has a size limit (DISTILLERY_TEACHER_CACHE_MAX_BYTES): after each write, the least recently used
entries are removed until it fits. An entry's file modification time is its last use (a read touches it);
access times are unreliable on servers mounted with relatime or noatime. An evicted entry is only a miss: the
next job that needs it computes and stores it again (its ``cache_built`` event says so). A worker reading an
entry while another evicts it either has it open already (unlinking leaves it readable) or finds it gone, a miss.
"""

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import torch

KEY_VERSION = 1  # bump when the way logits are computed changes
log = logging.getLogger(__name__)


def cache_key(*, teacher: dict, data: str, preprocessing: dict | None = None, owner: str | None = None) -> str:
    """``teacher``: what identifies the network (file sha256, format, arch, input shape);
    ``data``: what identifies the inputs (the transfer set's sha256 or built-in name);
    ``owner``: whose entries these are (the tenant). Entries are never shared between owners: a hit would tell
    one tenant that another ran the same teacher on the same data."""
    parts = {"v": KEY_VERSION, "teacher": teacher, "data": data, "preprocessing": preprocessing or {}}
    if owner is not None:
        parts["owner"] = owner
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class TeacherOutputCache:
    def __init__(self, root: Path, max_bytes: int | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        from safetensors.torch import load_file

        path = self.path(key)
        if not path.is_file():
            return None
        try:
            tensors = load_file(str(path))
        except Exception:  # a damaged (or just evicted) entry is a miss, and is rebuilt
            return None
        try:
            os.utime(path)  # used now: the last to be evicted
        except OSError:
            pass
        return tensors

    def put(self, key: str, tensors: dict[str, torch.Tensor]) -> None:
        from safetensors.torch import save_file

        path = self.path(key)
        size = sum(t.numel() * t.element_size() for t in tensors.values())
        if self.max_bytes is not None and size > self.max_bytes:
            log.warning("teacher outputs of %d bytes exceed the cache's limit of %d bytes "
                        "(DISTILLERY_TEACHER_CACHE_MAX_BYTES); not cached", size, self.max_bytes)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp)
            os.replace(tmp, path)  # concurrent writers of one key write the same bytes; last one wins
        finally:
            Path(tmp).unlink(missing_ok=True)
        if self.max_bytes is not None:
            self.evict(keep=path)

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, path) of every entry, least recently used first."""
        found = []
        for path in self.root.glob("*/*.safetensors"):
            try:
                st = path.stat()
            except FileNotFoundError:  # evicted by another worker meanwhile
                continue
            found.append((st.st_mtime, st.st_size, path))
        return sorted(found)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Removes least recently used entries until the cache fits its limit; never ``keep``, just written."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        evicted = []
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            evicted.append(path)
        if evicted:
            log.info("teacher-output cache: evicted %d least recently used entries to stay under %d bytes",
                     len(evicted), self.max_bytes)
        return evicted
