"""Extracting uploaded archives safely: no absolute paths, no `..`, no links or devices, and bounded
file count and total size — counted on the bytes actually written, not on what headers claim."""

import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

CHUNK = 1024 * 1024


class ArchiveInvalid(ValueError):
    """The archive is unsafe or damaged; the message says why."""


class ArchiveTooLarge(ArchiveInvalid):
    """The archive holds more files or bytes than allowed."""


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise ArchiveInvalid(f"the archive holds an absolute path: {name!r}")
    if ".." in path.parts:
        raise ArchiveInvalid(f"the archive holds a path that climbs out with '..': {name!r}")
    return path


class _Budget:
    def __init__(self, max_files: int, max_bytes: int):
        self.max_files, self.max_bytes, self.files, self.bytes = max_files, max_bytes, 0, 0

    def file(self) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise ArchiveTooLarge(f"the archive holds more than {self.max_files} files")

    def add(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise ArchiveTooLarge(f"the archive unpacks to more than {self.max_bytes} bytes")


def _copy(src, target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as out:
        while chunk := src.read(CHUNK):
            budget.add(len(chunk))
            out.write(chunk)


def extract_archive(archive: Path, dest: Path, *, max_files: int, max_bytes: int) -> None:
    """Extract a zip or tar (optionally compressed) into ``dest``, which must not exist yet. On any
    refusal ``dest`` is removed, so nothing is left behind."""
    dest = Path(dest)
    dest.mkdir(parents=True)
    budget = _Budget(max_files, max_bytes)
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, dest, budget)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, dest, budget)
        else:
            raise ArchiveInvalid("the file is neither a zip nor a tar archive")
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _extract_zip(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = _safe_name(info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ArchiveInvalid(f"the archive holds a symbolic link: {info.filename!r}")
                if info.is_dir():
                    continue
                budget.file()
                with zf.open(info) as src:
                    _copy(src, dest / name, budget)
    except zipfile.BadZipFile as exc:
        raise ArchiveInvalid(f"the zip archive is damaged: {exc}") from None


def _extract_tar(archive: Path, dest: Path, budget: _Budget) -> None:
    try:
        with tarfile.open(archive) as tf:
            for member in tf:
                name = _safe_name(member.name)
                if member.issym() or member.islnk():
                    raise ArchiveInvalid(f"the archive holds a link: {member.name!r}")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ArchiveInvalid(f"the archive holds a device or special file: {member.name!r}")
                budget.file()
                src = tf.extractfile(member)
                _copy(src, dest / name, budget)
    except tarfile.TarError as exc:
        raise ArchiveInvalid(f"the tar archive is damaged: {exc}") from None
