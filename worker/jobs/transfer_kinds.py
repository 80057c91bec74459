"""Transfer-set kinds, one registry entry each: how its data is loaded, what identifies its inputs (for the
teacher-output cache key) and whether it can be read from disk batch by batch. A new kind is one entry
here plus its schema (app/schemas.py); the API validates it when the set is registered."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import get_settings
from core.store import ArtifactStore
from core.tables import TransferSet
from models.archives import extract_archive
from models.image_data import (
    fingerprint,
    load_image_folder,
    load_torchvision,
    open_image_folder,
    open_torchvision,
    resolve_in_roots,
)
from models.preprocessing import Preprocessing
from models.transfer_sets import TransferData, load_builtin, load_npz


@dataclass(frozen=True)
class TransferKind:
    load: Callable[[TransferSet, ArtifactStore], TransferData]
    identity: Callable[[TransferSet, ArtifactStore], str]
    can_stream: bool = False  # image data, read from disk per batch when too large to hold (see streams)


def _on_disk(ts: TransferSet) -> Path:
    """Where an image folder or torchvision dataset is, resolved inside the data roots again now."""
    return resolve_in_roots(ts.spec["path"] if ts.kind == "image_folder" else ts.spec["root"],
                            get_settings().data_roots)


def _fingerprinted(ts: TransferSet, store: ArtifactStore) -> str:
    # Data on the volume is fingerprinted again at run time, so files changed since registration are never
    # served stale.
    return f"{ts.kind}:{(ts.spec or {}).get('dataset', '')}:{fingerprint(_on_disk(ts))}"


def _reading(ts: TransferSet) -> tuple[Preprocessing, bool]:
    return Preprocessing.model_validate(ts.spec.get("preprocessing") or {}), ts.spec.get("labelled", True)


def _images(ts: TransferSet, folder: Path, root: Path, prep: Preprocessing, labelled: bool) -> TransferData:
    if streams(ts):
        return open_image_folder(folder, root, labelled, prep, get_settings().dataloader_workers)
    return load_image_folder(folder, root, labelled, prep)


def unpacked_archive(ts: TransferSet, store: ArtifactStore) -> Path:
    """The archive unpacked in this process's local cache (with the limits it was accepted under).
    Sets registered before archives were kept packed name a folder of a directory store instead."""
    if ts.artifact is None:
        if not store.local:
            raise ValueError(f"transfer set {ts.id} was registered as an unpacked folder on a shared directory, "
                             "before image archives were kept in the artifact store; upload its archive again")
        return store.path(ts.spec["extracted"])
    settings = get_settings()

    def unpack(archive: Path, dest: Path) -> None:
        extract_archive(archive, dest, max_files=settings.archive_max_files, max_bytes=settings.archive_max_bytes,
                        max_ratio=settings.archive_max_ratio)

    return store.unpacked(ts.artifact.key, ts.artifact.sha256, unpack)


def _load_image_archive(ts: TransferSet, store: ArtifactStore) -> TransferData:
    prep, labelled = _reading(ts)
    folder = unpacked_archive(ts, store)
    return _images(ts, folder, folder, prep, labelled)


def _load_image_folder(ts: TransferSet, store: ArtifactStore) -> TransferData:
    prep, labelled = _reading(ts)
    folder = _on_disk(ts)
    root = next(r.resolve() for r in get_settings().data_roots if r.resolve() in [folder, *folder.parents])
    return _images(ts, folder, root, prep, labelled)


def _load_torchvision(ts: TransferSet, store: ArtifactStore) -> TransferData:
    prep, labelled = _reading(ts)
    if streams(ts):
        return open_torchvision(ts.spec["dataset"], _on_disk(ts), labelled, prep, get_settings().dataloader_workers)
    return load_torchvision(ts.spec["dataset"], _on_disk(ts), labelled, prep)


def _load_table(ts: TransferSet, store: ArtifactStore) -> TransferData:
    data = load_npz(store.open_local(ts.artifact.key, ts.artifact.sha256))
    data.class_names = ts.class_names  # names of the label column's classes, when it held names
    return data


def _needs_teacher(ts: TransferSet) -> TransferData:
    raise ValueError(f"transfer set {ts.id} holds raw texts: they are tokenized with a Hugging Face teacher's "
                     "tokenizer (worker/jobs/text_data.py)")


KINDS: dict[str, TransferKind] = {
    "builtin": TransferKind(load=lambda ts, store: load_builtin(ts.builtin),
                            identity=lambda ts, store: f"builtin:{ts.builtin}:v1"),
    "npz": TransferKind(load=lambda ts, store: load_npz(store.open_local(ts.artifact.key, ts.artifact.sha256)),
                        identity=lambda ts, store: f"npz:{ts.artifact.sha256}"),
    # a table is kept as the .npz the API made of it (app/services/table_sets.py)
    "table": TransferKind(load=lambda ts, store: _load_table(ts, store),
                          identity=lambda ts, store: f"table:{ts.artifact.sha256}"),
    # raw texts, tokenized with the job's teacher's tokenizer (worker/jobs/text_data.py, from experiment.py); the
    # teacher's identity in the cache key names the tokenizer and max_length
    "text": TransferKind(load=lambda ts, store: _needs_teacher(ts),
                         identity=lambda ts, store: f"text:{ts.artifact.sha256}"),
    "image_archive": TransferKind(load=_load_image_archive,
                                  identity=lambda ts, store: f"image_archive:{ts.fingerprint}", can_stream=True),
    "image_folder": TransferKind(load=_load_image_folder, identity=_fingerprinted, can_stream=True),
    "torchvision": TransferKind(load=_load_torchvision, identity=_fingerprinted, can_stream=True),
}


def load_transfer_data(ts: TransferSet, store: ArtifactStore) -> TransferData:
    return KINDS[ts.kind].load(ts, store)


def data_identity(ts: TransferSet, store: ArtifactStore) -> str:
    """What the transfer set's inputs are, for the teacher-output cache key."""
    return KINDS[ts.kind].identity(ts, store)


def streams(ts: TransferSet) -> bool:
    """Image sets whose decoded size passes DISTILLERY_IN_MEMORY_MAX_BYTES are read from disk per batch."""
    size = (ts.num_samples + ts.num_test) * 4
    for d in ts.sample_shape:
        size *= d
    return KINDS[ts.kind].can_stream and size > get_settings().in_memory_max_bytes
