"""Loading a checked Hugging Face folder as a teacher with one input, for the sandbox.

The engine's teachers take one tensor and return logits. A sequence classifier takes ``input_ids`` and an
``attention_mask``; the mask is derived here from the ids (``ids != pad_token_id``), so a transfer set of
right-padded token ids is all a text teacher needs. Loading is locked down: safetensors only, local files
only, never the repository's own code. Call ``check_hf_folder`` first (``load_hf_teacher`` does when it is not
given the folder's ``HFTeacherInfo``).
"""

from pathlib import Path

import torch
from torch import nn

from models.text.hf_folder import HFTeacherInfo, check_hf_folder


class TokenIdsClassifier(nn.Module):
    """A sequence classifier taking one int64 tensor of token ids ``[batch, seq_len]``, returning logits
    ``[batch, num_labels]``. Positions holding ``pad_token_id`` are masked out."""

    def __init__(self, model: nn.Module, pad_token_id: int):
        super().__init__()
        self.model = model
        self.pad_token_id = int(pad_token_id)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.dtype != torch.long:
            ids = ids.long()
        mask = (ids != self.pad_token_id).long()
        return self.model(input_ids=ids, attention_mask=mask).logits.float()  # a half-precision checkpoint too


def load_hf_teacher(folder: Path, info: HFTeacherInfo | None = None) -> TokenIdsClassifier:
    """The folder's classifier in eval mode, wrapped to take token ids."""
    from transformers import AutoModelForSequenceClassification

    info = info or check_hf_folder(Path(folder))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(folder), trust_remote_code=False, use_safetensors=True, local_files_only=True)
    if model.config.num_labels != info.num_labels:
        raise ValueError("the loaded model's num_labels differs from config.json's id2label")
    return TokenIdsClassifier(model.eval(), info.pad_token_id).eval()


_UNPACKED = []  # the folders this process unpacked, removed when it exits


def load_archived_teacher(archive: Path, max_bytes: int) -> TokenIdsClassifier:
    """The teacher inside an uploaded archive: unpacked with the bounded extraction (at most ``max_bytes``, the
    sandbox's scratch space), checked, loaded. Run by the sandbox's child, where ``/tmp`` is private."""
    import atexit
    import shutil
    import tempfile

    from models.text.archive import unpack_hf_archive

    work = Path(tempfile.mkdtemp(prefix="hf-teacher-"))
    if not _UNPACKED:
        atexit.register(lambda: [shutil.rmtree(p, ignore_errors=True) for p in _UNPACKED])
    _UNPACKED.append(work)
    folder = unpack_hf_archive(Path(archive), work / "unpacked", max_bytes=max_bytes)
    return load_hf_teacher(folder, check_hf_folder(folder))
