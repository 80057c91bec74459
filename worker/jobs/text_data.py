"""A text job's data: the Hugging Face teacher's folder unpacked into this process's local cache (under the
bounds it was accepted with), and a text transfer set tokenized with that teacher's tokenizer to int64 ids
``[N, max_length]``, its label names mapped through the teacher's id2label. The engine then trains as with any
teacher of int64 inputs.

The ids are kept in this host's local cache (``<DISTILLERY_LOCAL_CACHE_DIR>/text_ids``, bounded by
DISTILLERY_LOCAL_CACHE_MAX_BYTES, least recently used removed first), keyed by (set, tokenizer hash,
max_length): a sweep's members, a resumed job and the next job from the same teacher and set skip the
tokenizer. They stay on the host rather than in the bucket, as teacher outputs do, because they cost less to
compute again (the Rust tokenizer takes well under a second per 10,000 short texts) than to download. Labels
are mapped again each time: the mapping is a dictionary lookup. The teacher-output cache serves as for any
set: its key names the set and the teacher, whose identity holds the tokenizer's hash and max_length."""

from collections.abc import Callable
from pathlib import Path

import numpy as np

import torch

from core.config import get_settings
from core.store import ArtifactStore
from core.tables import Teacher, TransferSet
from models.text.archive import hf_root
from models.transfer_sets import TransferData
from worker.engine.teacher_cache import TeacherOutputCache

HF = "huggingface"


def teacher_folder(teacher: Teacher, store: ArtifactStore) -> Path:
    """The teacher's save_pretrained folder, unpacked once per process cache, under the bounds it was accepted with."""
    from models.text.archive import MAX_FILES, unpack_hf_archive

    settings = get_settings()

    def unpack(archive: Path, dest: Path) -> None:
        unpack_hf_archive(archive, dest, max_bytes=settings.archive_max_bytes,
                          max_files=min(settings.archive_max_files, MAX_FILES), max_ratio=settings.archive_max_ratio)

    return hf_root(store.unpacked(teacher.artifact.key, teacher.artifact.sha256, unpack))


def text_info(teacher: Teacher) -> dict | None:
    return dict(teacher.arch_config) if teacher.format == HF else None


def text_id_cache() -> TeacherOutputCache:
    """Token ids by (set, tokenizer, max_length): safetensors entries, written whole, evicted least recently
    used first (the teacher-output cache's own class, under another folder)."""
    settings = get_settings()
    return TeacherOutputCache(settings.resolved_local_cache_dir / "text_ids", max_bytes=settings.local_cache_max_bytes)


def text_ids(ts: TransferSet, info: dict, kept: dict, tokenizer_path: Callable[[], Path],
             cache: TeacherOutputCache | None = None) -> dict[str, np.ndarray]:
    """``{"train": ids, "test": ids}`` (the parts the set has), from the cache or tokenized and cached;
    ``tokenizer_path`` is called on a miss only (a hit needs no teacher folder)."""
    from models.text.tokens import cache_key, encode_texts, load_tokenizer

    cache = cache if cache is not None else text_id_cache()
    # The set's id is in the key as well as its bytes: entries of one tenant's set never serve another's.
    key = cache_key(info["tokenizer_sha256"], info["max_length"], f"{ts.id}:{ts.artifact.sha256}")
    parts = [which for which in ("train", "test") if kept.get(which)]
    hit = cache.get(key)
    if hit is not None and set(hit) == set(parts):
        return {which: hit[which].numpy() for which in parts}
    tokenizer = load_tokenizer(tokenizer_path())
    ids = {which: encode_texts(tokenizer, kept[which]["texts"], info["max_length"], info["pad_token_id"])
           for which in parts}
    cache.put(key, {which: torch.from_numpy(v) for which, v in ids.items()})
    return ids


def load_text_data(ts: TransferSet, teacher: Teacher, store: ArtifactStore,
                   cache: TeacherOutputCache | None = None) -> TransferData:
    from models.text.text_sets import load_text_set

    info = teacher.arch_config
    kept = load_text_set(store.open_local(ts.artifact.key, ts.artifact.sha256))
    ids = text_ids(ts, info, kept, lambda: teacher_folder(teacher, store) / "tokenizer.json", cache)
    index = {name: i for i, name in enumerate(info["class_names"])}

    def part(which: str):
        if which not in ids:
            return None, None
        labels = kept[which]["labels"]
        if labels is None:
            return ids[which], None
        try:
            y = np.array([index[v] if isinstance(v, str) else int(v) for v in labels], dtype=np.int64)
        except KeyError as exc:  # the API checked the names; a teacher cannot change since
            raise ValueError(f"the label {exc.args[0]!r} is not one of the teacher's classes") from None
        return ids[which], y

    x_train, y_train = part("train")
    x_test, y_test = part("test")
    return TransferData(x_train, y_train, x_test, y_test, class_names=list(info["class_names"]))
