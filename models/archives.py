"""Extracting uploaded archives safely: no absolute paths, no `..`, no links or devices, names every file
system can hold, and bounded file count, total size and expansion ratio — counted on the bytes actually
written, not on what headers claim (a zip member's claim is also checked before it is decompressed).

Anything damaged or hostile is an :class:`ArchiveInvalid` whose message names the entry, never a path on
this server."""

import lzma
import shutil
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

CHUNK = 1024 * 1024
# Expansion up to this many bytes is allowed whatever the ratio: a small, well-compressed archive is harmless.
RATIO_FLOOR = 1024 * 1024
MAX_NAME_BYTES = 255  # one path component, as Linux file systems allow
MAX_PATH_BYTES = 1024  # a whole name inside the archive, well below PATH_MAX once under the store

# What the zip, tar and decompression modules raise on damaged or hostile input. OSError covers gzip's
# BadGzipFile and bz2's "Invalid data stream"; failures to write are re-raised apart (see _copy).
_READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError, struct.error, OverflowError, KeyError, IndexError,
                UnicodeDecodeError)


class ArchiveInvalid(ValueError):
    """The archive is unsafe or damaged; the message says why."""


class ArchiveTooLarge(ArchiveInvalid):
    """The archive holds more files or bytes than allowed, or expands more than allowed."""


class _WriteFailed(Exception):
    """Writing an extracted file failed for a reason of this server's (a full disk): not the tenant's fault."""

    def __init__(self, error: OSError):
        self.error = error


def _safe_name(name: str) -> PurePosixPath:
    if "\x00" in name:
        raise ArchiveInvalid(f"the archive holds a name with a NUL character: {name!r}")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise ArchiveInvalid(f"the archive holds a name that is not valid UTF-8: {name!r}") from None
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise ArchiveInvalid(f"the archive holds an absolute path: {name!r}")
    if ".." in path.parts:
        raise ArchiveInvalid(f"the archive holds a path that climbs out with '..': {name!r}")
    if len(encoded) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in path.parts):
        raise ArchiveInvalid(f"the archive holds a name longer than {MAX_NAME_BYTES} bytes per folder or file, or "
                             f"{MAX_PATH_BYTES} in all: {name[:80]!r}...")
    return path


class _Layout:
    """The names extracted so far: a name is one file or one folder, never both, and never twice."""

    def __init__(self):
        self.files: set[PurePosixPath] = set()
        self.dirs: set[PurePosixPath] = set()

    def _parents(self, path: PurePosixPath, raw: str) -> None:
        for parent in path.parents:
            if parent in self.files:
                raise ArchiveInvalid(f"the archive holds {str(parent)!r} both as a file and as a folder "
                                     f"(in {raw!r})")
            if parent.parts:
                self.dirs.add(parent)

    def directory(self, path: PurePosixPath, raw: str) -> None:
        if path in self.files:
            raise ArchiveInvalid(f"the archive holds {raw!r} both as a file and as a folder")
        self._parents(path, raw)
        if path.parts:
            self.dirs.add(path)

    def file(self, path: PurePosixPath, raw: str) -> None:
        if not path.parts:
            raise ArchiveInvalid(f"the archive holds a file with no name: {raw!r}")
        if path in self.files:
            raise ArchiveInvalid(f"the archive holds {raw!r} twice")
        if path in self.dirs:
            raise ArchiveInvalid(f"the archive holds {raw!r} both as a file and as a folder")
        self._parents(path, raw)
        self.files.add(path)


class _Budget:
    def __init__(self, max_files: int, max_bytes: int, max_ratio: float, archive_bytes: int,
                 bytes_setting: str = "DISTILLERY_ARCHIVE_MAX_BYTES"):
        self.max_files, self.max_bytes, self.files, self.bytes = max_files, max_bytes, 0, 0
        self.max_ratio, self.archive_bytes, self.bytes_setting = max_ratio, archive_bytes, bytes_setting

    def file(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise ArchiveTooLarge(f"the archive holds more than {self.max_files} files (DISTILLERY_ARCHIVE_MAX_FILES)")

    def add(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise ArchiveTooLarge(f"the archive unpacks to more than {self.max_bytes} bytes ({self.bytes_setting})")
        if self.bytes > RATIO_FLOOR and self.bytes > self.max_ratio * self.archive_bytes:
            raise ArchiveTooLarge(f"the archive of {self.archive_bytes} bytes unpacks to more than {self.max_ratio:g} "
                                  "times its size (DISTILLERY_ARCHIVE_MAX_RATIO)")

    def claim(self, name: str, size: int, compressed: int) -> None:
        """A zip member's sizes from its header, checked before it is decompressed."""
        if size > RATIO_FLOOR and size > self.max_ratio * max(compressed, 1):
            raise ArchiveTooLarge(f"{name!r} expands from {compressed} to {size} bytes, more than {self.max_ratio:g} "
                                  "times (DISTILLERY_ARCHIVE_MAX_RATIO)")
        if self.bytes + size > self.max_bytes:
            raise ArchiveTooLarge(f"the archive unpacks to more than {self.max_bytes} bytes ({self.bytes_setting})")


def _copy(src, target: Path, budget: _Budget) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out = open(target, "xb")  # noqa: SIM115 - closed below; write errors are told apart from read errors
    except OSError as exc:
        raise _WriteFailed(exc) from exc
    with out:
        while chunk := src.read(CHUNK):
            budget.add(len(chunk))
            try:
                out.write(chunk)
            except OSError as exc:
                raise _WriteFailed(exc) from exc


def extract_archive(archive: Path, dest: Path, *, max_files: int, max_bytes: int, max_ratio: float = 200,
                    bytes_setting: str = "DISTILLERY_ARCHIVE_MAX_BYTES") -> int:
    """Extract a zip or tar (optionally compressed) into ``dest``, which must not exist yet; returns the bytes
    written. On any refusal ``dest`` is removed, so nothing is left behind. ``bytes_setting``: the setting a
    refusal for ``max_bytes`` names, so that the user is told which one to raise."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    budget = _Budget(max_files, max_bytes, max_ratio, Path(archive).stat().st_size, bytes_setting)
    try:
        try:
            if zipfile.is_zipfile(archive):
                _extract_zip(archive, dest, budget)
            elif tarfile.is_tarfile(archive):
                _extract_tar(archive, dest, budget)
            else:
                raise ArchiveInvalid("the file is neither a zip nor a tar archive")
        except ArchiveInvalid:
            raise
        except _WriteFailed as exc:
            raise exc.error from None
        except _READ_ERRORS as exc:
            raise ArchiveInvalid(f"the archive is damaged: {_reason(exc)}") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return budget.bytes


def _reason(exc: BaseException) -> str:
    # An OSError's str() may carry a path; its strerror never does.
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    text = text.splitlines()[0][:200] if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    layout = _Layout()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            # zipfile cuts a name at its first NUL; the name as stored shows it.
            _safe_name(info.orig_filename)
            name = _safe_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ArchiveInvalid(f"the archive holds a symbolic link: {info.filename!r}")
            if info.is_dir():
                layout.directory(name, info.filename)
                continue
            layout.file(name, info.filename)
            budget.file()
            budget.claim(info.filename, info.file_size, info.compress_size)
            with zf.open(info) as src:
                _copy(src, dest / name, budget)


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    layout = _Layout()
    with tarfile.open(archive) as tf:
        for member in tf:
            name = _safe_name(member.name)
            if member.issym() or member.islnk():
                raise ArchiveInvalid(f"the archive holds a link: {member.name!r}")
            if member.isdir():
                layout.directory(name, member.name)
                continue
            if not member.isfile():
                raise ArchiveInvalid(f"the archive holds a device or special file: {member.name!r}")
            layout.file(name, member.name)
            budget.file()
            src = tf.extractfile(member)
            _copy(src, dest / name, budget)
