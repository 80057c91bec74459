"""A Hugging Face folder uploaded as a ``.zip`` or ``.tar.gz``: unpacked with the bounded, link-free extraction of
``models.archives`` (sizes, file count, names, no links), then found inside (the archive's top level, or its one
top folder, as ``zip -r model.zip model/`` makes). The API unpacks it to check it, the sandbox's child to load
it, the worker to read its tokenizer."""

from pathlib import Path

from models.archives import extract_archive

MAX_FILES = 1000  # a save_pretrained folder holds a handful; sharded checkpoints a few dozen


def unpack_hf_archive(archive: Path, dest: Path, *, max_bytes: int, max_files: int = MAX_FILES,
                      max_ratio: float = 200, bytes_setting: str = "DISTILLERY_ARCHIVE_MAX_BYTES") -> Path:
    """Extract ``archive`` into ``dest`` (which must not exist) and return the folder holding config.json (or
    ``dest`` itself, for the folder check to say what is missing). Raises ``ArchiveInvalid``/``ArchiveTooLarge``."""
    extract_archive(Path(archive), Path(dest), max_files=max_files, max_bytes=max_bytes, max_ratio=max_ratio,
                    bytes_setting=bytes_setting)
    return hf_root(Path(dest))


def hf_root(dest: Path) -> Path:
    entries = [p for p in dest.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if not (dest / "config.json").exists() and len(entries) == 1 and entries[0].is_dir() \
            and not entries[0].is_symlink():
        return entries[0]
    return dest


def archive_suffix(path: Path) -> str:
    """What the stored archive is called: its kind read from its bytes, not from the upload's name."""
    import zipfile

    return ".zip" if zipfile.is_zipfile(path) else ".tar.gz"
