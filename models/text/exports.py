"""Exports of a transformer text student, in the forms text models are deployed in.

- ``huggingface``: the folder ``save_pretrained`` writes (safetensors weights, config.json with id2label and
  label2id) plus the teacher's fast tokenizer files, so ``AutoModelForSequenceClassification.from_pretrained``
  and ``AutoTokenizer.from_pretrained`` load it as it is; ``zip_folder`` packs it for download.
- ``onnx``: inputs ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence axes), the usual
  names for a text model in onnxruntime or Triton, and one output ``probabilities``: the softmax of the logits
  at T = 1, as every other Distillery export gives. Exported with the torch.export-based exporter
  (``dynamo=True``, the default in torch 2.9+; checked on torch 2.14.1 with transformers 5.25.0).

The tokenizer is not in the ONNX file: the deployment tokenizes with the same ``tokenizer.json`` (shipped in
the Hugging Face export) and passes ``attention_mask`` (1 for tokens, 0 for padding).
"""

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")
ONNX_INPUTS = ("input_ids", "attention_mask")
ONNX_OUTPUT = "probabilities"


def _model(student: nn.Module):
    """The transformers model inside a ``TokenIdsClassifier``."""
    model = getattr(student, "model", student)
    if not hasattr(model, "save_pretrained"):
        raise TypeError("only a transformer text student exports to these formats")
    return model


def export_huggingface(student: nn.Module, out: Path, *, tokenizer_folder: Path,
                       class_names: list[str] | tuple[str, ...], max_length: int | None = None) -> Path:
    """Writes the student and the teacher's tokenizer to the folder ``out``; returns it.

    The copied tokenizer_config.json's ``model_max_length`` becomes ``max_length`` (default: the student's
    max positions), so ``tokenizer(texts, truncation=True)`` never makes ids longer than the student takes."""
    model = _model(student)
    names = list(class_names)
    if len(names) != model.config.num_labels:
        raise ValueError("class_names must have one name per class")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {name: i for i, name in enumerate(names)}
    was_training = model.training
    model.eval()
    model.save_pretrained(out, safe_serialization=True)
    model.train(was_training)
    tokenizer_folder = Path(tokenizer_folder)
    for name in TOKENIZER_FILES:
        source = tokenizer_folder / name
        if source.is_file() and not source.is_symlink():
            shutil.copyfile(source, out / name)
    if not (out / "tokenizer.json").is_file():
        raise ValueError("the tokenizer folder has no tokenizer.json")
    limit = min(int(max_length or model.config.max_position_embeddings), int(model.config.max_position_embeddings))
    config_path = out / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    tokenizer_config["model_max_length"] = limit
    config_path.write_text(json.dumps(tokenizer_config, indent=2))
    return out


def zip_folder(folder: Path, archive: Path) -> Path:
    """The folder's files at the top of a zip (what ``from_pretrained`` expects once extracted)."""
    folder, archive = Path(folder), Path(archive)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return archive


class _Probabilities(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        return torch.softmax(logits, dim=-1)


def export_onnx(student: nn.Module, path: Path, *, pad_token_id: int | None = None) -> Path:
    """The student as ONNX: (input_ids, attention_mask) → probabilities at T = 1, any batch and length up to
    the student's max positions."""
    model = _model(student)
    was_training = model.training
    model.eval()
    wrapper = _Probabilities(model).eval()
    max_positions = int(model.config.max_position_embeddings)
    pad = int(pad_token_id if pad_token_id is not None else (model.config.pad_token_id or 0))
    # an example of batch 2 and length 8 with padding, so neither axis is specialised to 1 or to "no padding"
    ids = torch.full((2, min(8, max_positions)), pad, dtype=torch.long)
    ids[:, 0] = 1 if pad != 1 else 2
    ids[0, 1:] = ids[0, 0]
    mask = (ids != pad).long()
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    seq = torch.export.Dim("sequence", min=1, max=max_positions)
    shapes = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}}
    path = Path(path)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="# The axis name")  # the names are kept; the warning is noise
            program = torch.onnx.export(wrapper, (ids, mask), dynamo=True, input_names=list(ONNX_INPUTS),
                                        output_names=[ONNX_OUTPUT], dynamic_shapes=shapes, verbose=False)
        program.save(str(path))
    finally:
        model.train(was_training)
    _drop_node_metadata(path)
    return path


def _drop_node_metadata(path: Path) -> None:
    """The exporter annotates every node with its FX node, module stack and class hierarchy: seven eighths of a
    small student's file (202 KB, 32 KB without), which the download and the deployment report's size would carry
    for nothing. External weights, if any, are left where they are."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for graph in [proto.graph, *proto.functions]:
        for node in graph.node:
            del node.metadata_props[:]
    onnx.save(proto, str(path))
