"""A process's bounded local copies of what it read from the artifact store: downloaded files and unpacked
image archives, so that a sweep, a resumed job or a second download does not fetch the same bytes again.

Entries are named by the store key they copy (keys are written once and never rewritten: a new lease or
upload gets a new key), so an entry is never stale. Each entry is made beside the cache under a temporary
name and renamed into place whole. Past DISTILLERY_LOCAL_CACHE_MAX_BYTES the least recently used entries are
removed (an entry's modification time is its last use; a read touches it); the entry just made or used is
never the one removed. A reader that has a file open keeps reading it after its removal, but a job reads
its inputs by path for its whole run (a streamed archive's folder, initial weights): so inside
:meth:`LocalCache.held` (a worker's task) every entry fetched is pinned by a shared lock on its lock file
until the block ends, and eviction, by this process or another one on the host, passes over pinned
entries. Size the cache to hold at least one job's inputs.
"""

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
        self._locks = self.root / ".locks"  # one lock file per entry, never removed: an inode to agree on
        self._locks.mkdir(exist_ok=True)
        self._holding = 0
        self._pins: dict[str, int] = {}  # entry name -> the fd holding its shared lock

    @contextmanager
    def held(self) -> Iterator[None]:
        """Entries fetched inside the block stay (no process evicts them) until the outermost block ends."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
            if not self._holding:
                for fd in self._pins.values():
                    os.close(fd)  # closing drops the lock
                self._pins.clear()

    def _pin(self, name: str) -> None:
        if not self._holding or name in self._pins:
            return
        fd = os.open(self._locks / name, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        self._pins[name] = fd

    def _in_use(self, name: str) -> bool:
        """Whether some process (this one included) pins the entry. Asked only right before removing it, with
        the exclusive lock then dropped: a reader that pins it after that finds it gone and fetches again."""
        try:
            fd = os.open(self._locks / name, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def fetch(self, name: str, make: Callable[[Path], None]) -> Path:
        """The entry ``name``, made by ``make(path)`` (which writes a file or a folder at ``path``) when absent.
        Whatever ``make`` raises leaves nothing behind."""
        self._pin(name)  # before looking: an entry seen present then stays
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
            if path in (self._incoming, self._locks):
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
            if path == keep or self._in_use(path.name):
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
            if self._in_use(path.name):
                continue
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
