"""The teacher-output cache: a teacher's logits on a transfer set, computed once and reused across
epochs, jobs and sweep members.

Entries are content-addressed: the key hashes what determines the logits (the teacher file and how it
is loaded, the transfer set's content, the preprocessing), so a changed teacher or preprocessing can
never be served stale outputs. Each entry is one safetensors file, written atomically.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

KEY_VERSION = 1  # bump when the way logits are computed changes


def cache_key(*, teacher: dict, data: str, preprocessing: dict | None = None) -> str:
    """``teacher``: what identifies the network (file sha256, format, arch, input shape);
    ``data``: what identifies the inputs (the transfer set's sha256 or built-in name)."""
    blob = json.dumps({"v": KEY_VERSION, "teacher": teacher, "data": data, "preprocessing": preprocessing or {}},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class TeacherOutputCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.safetensors"

    def get(self, key: str) -> dict[str, torch.Tensor] | None:
        from safetensors.torch import load_file

        path = self.path(key)
        if not path.is_file():
            return None
        try:
            return load_file(str(path))
        except Exception:  # a damaged entry is a miss, and is rebuilt
            return None

    def put(self, key: str, tensors: dict[str, torch.Tensor]) -> None:
        from safetensors.torch import save_file

        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp)
            os.replace(tmp, path)  # concurrent writers of one key write the same bytes; last one wins
        finally:
            Path(tmp).unlink(missing_ok=True)
