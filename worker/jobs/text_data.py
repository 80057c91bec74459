"""A text job's data: the Hugging Face teacher's folder unpacked into this process's local cache (under the
bounds it was accepted with), and a text transfer set tokenized with that teacher's tokenizer to int64 ids
``[N, max_length]``, its label names mapped through the teacher's id2label. The engine then trains as with any
teacher of int64 inputs.

The ids are computed again for each job (the Rust tokenizer takes well under a second per 10,000 short texts);
they are not kept in a cache keyed by (set, tokenizer hash, max_length) yet (``models.text.tokens.cache_key``
names that key). The teacher-output cache still serves: its key names the set and the teacher, whose identity
holds the tokenizer's hash and max_length."""

from pathlib import Path

import numpy as np

from core.config import get_settings
from core.store import ArtifactStore
from core.tables import Teacher, TransferSet
from models.text.archive import hf_root
from models.transfer_sets import TransferData

HF = "huggingface"


def teacher_folder(teacher: Teacher, store: ArtifactStore) -> Path:
    """The teacher's save_pretrained folder, unpacked once per process cache."""
    from models.archives import extract_archive

    settings = get_settings()

    def unpack(archive: Path, dest: Path) -> None:
        extract_archive(archive, dest, max_files=min(settings.archive_max_files, 1000),
                        max_bytes=settings.archive_max_bytes, max_ratio=settings.archive_max_ratio)

    return hf_root(store.unpacked(teacher.artifact.key, teacher.artifact.sha256, unpack))


def text_info(teacher: Teacher) -> dict | None:
    return dict(teacher.arch_config) if teacher.format == HF else None


def load_text_data(ts: TransferSet, teacher: Teacher, store: ArtifactStore) -> TransferData:
    from models.text.text_sets import load_text_set
    from models.text.tokens import encode_texts, load_tokenizer

    info = teacher.arch_config
    kept = load_text_set(store.open_local(ts.artifact.key, ts.artifact.sha256))
    tokenizer = load_tokenizer(teacher_folder(teacher, store) / "tokenizer.json")
    index = {name: i for i, name in enumerate(info["class_names"])}

    def part(which: str):
        if not kept.get(which):
            return None, None
        ids = encode_texts(tokenizer, kept[which]["texts"], info["max_length"], info["pad_token_id"])
        labels = kept[which]["labels"]
        if labels is None:
            return ids, None
        try:
            y = np.array([index[v] if isinstance(v, str) else int(v) for v in labels], dtype=np.int64)
        except KeyError as exc:  # the API checked the names; a teacher cannot change since
            raise ValueError(f"the label {exc.args[0]!r} is not one of the teacher's classes") from None
        return ids, y

    x_train, y_train = part("train")
    x_test, y_test = part("test")
    return TransferData(x_train, y_train, x_test, y_test, class_names=list(info["class_names"]))
