"""Turning raw texts into the teacher's token ids, and batching them.

Texts are tokenized once, with the teacher's own ``tokenizer.json`` read by the ``tokenizers`` library (Rust,
no transformers, no slow Python tokenizers), truncated to ``max_length`` and right-padded with the pad id to a
fixed width, so a transfer set is one int64 array that can be stored (.npz) and cached. The cache key names
what the ids depend on: the tokenizer file's hash, ``max_length`` and the set. In training, ``collate_ids``
trims each batch to its longest row, so short texts do not pay for the longest one in the set.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


def encode_texts(tokenizer, texts: Sequence[str], max_length: int, pad_token_id: int) -> np.ndarray:
    """``[len(texts), max_length]`` int64 ids, truncated (special tokens included) and right-padded.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` or the path of a ``tokenizer.json``."""
    if max_length < 1:
        raise ValueError("max_length must be positive")
    if isinstance(tokenizer, str | Path):
        tokenizer = load_tokenizer(Path(tokenizer))
    tokenizer.no_padding()  # the file's own padding and truncation settings are replaced by ours (in place)
    tokenizer.enable_truncation(max_length)
    out = np.full((len(texts), max_length), pad_token_id, dtype=np.int64)
    for row, encoding in enumerate(tokenizer.encode_batch([str(t) for t in texts])):
        ids = encoding.ids[:max_length]
        out[row, : len(ids)] = ids
    return out


def lengths(ids, pad_token_id: int):
    """Each row's length: one past its last non-pad position (rows are right-padded)."""
    import torch

    ids = torch.as_tensor(ids)
    not_pad = ids != pad_token_id
    positions = torch.arange(1, ids.shape[-1] + 1, device=ids.device).expand_as(ids)
    return (positions * not_pad).amax(dim=-1)


def collate_ids(rows, pad_token_id: int):
    """A batch ``[batch, longest]`` int64 from rows of ids (fixed-width or of different lengths), padded with
    ``pad_token_id`` to the batch's longest row; trailing columns of padding only are dropped."""
    import torch

    rows = [torch.as_tensor(r, dtype=torch.long).reshape(-1) for r in rows]
    if not rows:
        raise ValueError("an empty batch")
    width = max(r.shape[0] for r in rows)
    batch = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    for i, r in enumerate(rows):
        batch[i, : r.shape[0]] = r
    longest = int(lengths(batch, pad_token_id).max()) if width else 0
    return batch[:, : max(longest, 1)]


def cache_key(tokenizer_sha256: str, max_length: int, set_id: str) -> str:
    """The key of a set's ids: they change when the tokenizer file, max_length or the set does."""
    return hashlib.sha256(f"text-ids\0{tokenizer_sha256}\0{int(max_length)}\0{set_id}".encode()).hexdigest()
