"""A process's bounded local copies of what it read from the artifact store: downloaded files and unpacked
image archives, so that a sweep, a resumed job or a second download does not fetch the same bytes again.

Entries are named by the store key they copy (keys are written once and never rewritten: a new lease or
upload gets a new key), so an entry is never stale. Each entry is made beside the cache under a temporary
name and renamed into place whole. Past DISTILLERY_LOCAL_CACHE_MAX_BYTES the least recently used entries are
removed (an entry's modification time is its last use; a read touches it); the entry just made or used is
never the one removed. A reader that has a file open keeps reading it after its removal; an evicted entry
is only fetched again. Size the cache to hold at least one job's inputs.
"""

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def entry_name(key: str) -> str:
    # The key's own file name stays at the end: loaders look at suffixes (.pt2, .npz).
    return f"{hashlib.sha256(key.encode()).hexdigest()[:24]}-{key.rsplit('/', 1)[-1]}"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                total += os.stat(os.path.join(dirpath, name), follow_symlinks=False).st_size
            except FileNotFoundError:
                pass
    return total


class LocalCache:
    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        self._incoming = self.root / ".incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)

    def fetch(self, name: str, make: Callable[[Path], None]) -> Path:
        """The entry ``name``, made by ``make(path)`` (which writes a file or a folder at ``path``) when absent.
        Whatever ``make`` raises leaves nothing behind."""
        path = self.root / name
        if path.exists():
            try:
                os.utime(path)  # used now: the last to be evicted
            except FileNotFoundError:  # evicted meanwhile by another process: made again below
                pass
            else:
                return path
        work = Path(tempfile.mkdtemp(dir=self._incoming))
        try:
            made = work / name
            make(made)
            try:
                os.rename(made, path)
            except OSError:  # another process made it meanwhile: the same bytes, keep theirs
                if not path.exists():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.evict(keep=path)
        return path

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, path) of every entry, least recently used first."""
        found = []
        for path in self.root.iterdir():
            if path == self._incoming:
                continue
            try:
                found.append((path.stat().st_mtime, _size(path), path))
            except FileNotFoundError:
                continue
        return sorted(found)

    def evict(self, keep: Path | None = None) -> list[Path]:
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        evicted = []
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            total -= size
            evicted.append(path)
        if evicted:
            log.info("local cache: evicted %d least recently used entries to stay under %d bytes "
                     "(DISTILLERY_LOCAL_CACHE_MAX_BYTES)", len(evicted), self.max_bytes)
        return evicted

    def clear(self) -> None:
        for _, _, path in self.entries():
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
