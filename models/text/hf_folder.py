"""Checking a Hugging Face ``save_pretrained`` folder before anything loads it.

A text teacher arrives as the folder ``model.save_pretrained`` and ``tokenizer.save_pretrained`` write,
already extracted. Loading such a folder with transformers can unpickle ``pytorch_model.bin`` or run the
repository's own Python (``auto_map`` + ``trust_remote_code``), so this module decides from file names and
small JSON files alone, read with ``json`` under a size bound, whether the folder is one we will load:
safetensors weights, a config naming one known ``*ForSequenceClassification`` architecture, and a fast
tokenizer (``tokenizer.json``, read later by the ``tokenizers`` library, never by transformers' slow
tokenizers). Only the last step, asking whether ``model_type`` is one transformers knows, imports transformers'
name tables (no model code), lazily, when a text upload is checked.

Every refusal is ``HFFolderInvalid`` with a ``field`` (the upload field to change) and a message that says what
to do; messages name only the standard file names, never a path on this server or a file's contents.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MAX_JSON_BYTES = 1 << 20  # config.json, tokenizer_config.json, the shard index
MAX_TOKENIZER_BYTES = 64 << 20  # tokenizer.json (large multilingual vocabularies are ~20 MiB)
MAX_SAFETENSORS_HEADER = 100 << 20  # the JSON header naming the tensors (a few MiB for the largest models)
MAX_LENGTH_CAP = 512
MAX_CLASSES = 100_000
MAX_LABEL_CHARS = 200
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
SLOW_TOKENIZER_FILES = ("vocab.txt", "spiece.model", "sentencepiece.bpe.model", "merges.txt", "vocab.json")
SHARD = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")
RESAVE = "re-save it with model.save_pretrained(path, safe_serialization=True)"
FAST_TOKENIZER = "AutoTokenizer.from_pretrained(..., use_fast=True).save_pretrained(path)"


class HFFolderInvalid(ValueError):
    """The folder is not a text teacher we will load; ``field`` names the upload field to change."""

    def __init__(self, message: str, field: str = "file"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class HFTeacherInfo:
    model_type: str
    architecture: str
    num_labels: int
    class_names: tuple[str, ...]
    max_length: int
    pad_token_id: int
    vocab_size: int
    tokenizer_sha256: str
    hidden_size: int | None
    num_layers: int | None
    max_position_embeddings: int | None


def check_hf_folder(folder: Path, max_length: int | None = None) -> HFTeacherInfo:
    """What the folder holds, or ``HFFolderInvalid`` saying why it will not be loaded."""
    folder = Path(folder)
    files = _files(folder)
    _check_weights(folder, files)
    if "config.json" not in files:
        raise HFFolderInvalid("The folder has no config.json: upload the whole folder model.save_pretrained writes.")
    config = _read_json(folder / "config.json", "config.json")
    if "auto_map" in config:
        raise HFFolderInvalid("config.json has auto_map: models with their own Python code are not run here "
                              "(trust_remote_code is never set); use an architecture transformers ships.")
    tokenizer_path = _check_tokenizer_files(folder, files)
    tokenizer_config = (_read_json(folder / "tokenizer_config.json", "tokenizer_config.json")
                        if "tokenizer_config.json" in files else {})
    model_type, architecture = _architecture(config)
    class_names = _class_names(config)
    positions = _positive_int(config.get("max_position_embeddings"))
    tokenizer = _load_tokenizer(tokenizer_path)
    pad_token_id = _pad_token_id(config, tokenizer_config, tokenizer)
    vocab_size = _positive_int(config.get("vocab_size"))
    if vocab_size is None:
        raise HFFolderInvalid("config.json has no vocab_size: re-save the model with save_pretrained.")
    if tokenizer.get_vocab_size(with_added_tokens=True) > vocab_size:
        raise HFFolderInvalid("tokenizer.json has more tokens than the model's vocab_size: upload the tokenizer "
                              "the model was trained with (or resize the model's embeddings and re-save).")
    return HFTeacherInfo(
        model_type=model_type, architecture=architecture, num_labels=len(class_names), class_names=class_names,
        max_length=_max_length(max_length, tokenizer_config, positions), pad_token_id=pad_token_id,
        vocab_size=vocab_size, tokenizer_sha256=_sha256(tokenizer_path), hidden_size=_positive_int(
            config.get("hidden_size")), num_layers=_positive_int(config.get("num_hidden_layers")),
        max_position_embeddings=positions)


def _files(folder: Path) -> set[str]:
    """Relative names of the plain files (links are refused: they could point anywhere on this server)."""
    if not folder.is_dir():
        raise HFFolderInvalid("The upload is not a folder: upload the folder save_pretrained writes, as a zip.")
    names = set()
    for path in folder.rglob("*"):
        if path.is_symlink():
            raise HFFolderInvalid("The folder holds a symbolic link: upload plain files only.")
        if path.is_file():
            names.add(path.relative_to(folder).as_posix())
    return names


def _check_weights(folder: Path, files: set[str]) -> None:
    if any(name.lower().endswith(PICKLE_SUFFIXES) for name in files):
        raise HFFolderInvalid("The folder holds a pickle file (such as pytorch_model.bin), and pickles can run code "
                              f"when loaded, so they are never opened here: {RESAVE}, and upload only the folder "
                              "it writes.")
    if "model.safetensors" in files:
        _check_safetensors(folder / "model.safetensors", "model.safetensors")
        return
    shards = {name for name in files if SHARD.fullmatch(name)}
    if not shards:
        raise HFFolderInvalid(f"The folder has no model.safetensors: {RESAVE}.")
    if "model.safetensors.index.json" not in files:
        raise HFFolderInvalid("The weights are sharded but model.safetensors.index.json is missing: upload the "
                              "whole folder save_pretrained writes.")
    index = _read_json(folder / "model.safetensors.index.json", "model.safetensors.index.json")
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict) or not weight_map:
        raise HFFolderInvalid("model.safetensors.index.json has no weight_map: re-save the model.")
    if not {str(v) for v in weight_map.values()} <= shards:
        raise HFFolderInvalid("model.safetensors.index.json names shards the folder does not hold: upload every "
                              "model-0000x-of-0000y.safetensors file.")
    for name in sorted(shards):
        _check_safetensors(folder / name, "a model-0000x-of-0000y.safetensors shard")


def _check_safetensors(path: Path, name: str) -> None:
    """The file starts as safetensors files do (an 8-byte header length, then a JSON object), so a Git LFS
    pointer or a renamed pickle is refused here with a message rather than by the loader."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else 0
        if not 2 <= length <= min(MAX_SAFETENSORS_HEADER, size - 8):
            raise HFFolderInvalid(f"{name} is not a safetensors file (a Git LFS pointer? fetch the real file with "
                                  f"git lfs pull): {RESAVE}.")
        header = f.read(length)
    try:
        ok = isinstance(json.loads(header), dict)
    except (ValueError, RecursionError):
        ok = False
    if not ok:
        raise HFFolderInvalid(f"{name} has a damaged header: {RESAVE}.")


def _check_tokenizer_files(folder: Path, files: set[str]) -> Path:
    if "tokenizer.json" in files:
        return folder / "tokenizer.json"
    if any(name in files for name in SLOW_TOKENIZER_FILES):
        raise HFFolderInvalid("The folder has only a slow tokenizer's files (no tokenizer.json): save a fast "
                              f"tokenizer with {FAST_TOKENIZER} and upload the folder again.")
    raise HFFolderInvalid("The folder has no tokenizer: save the tokenizer the model was trained with into the "
                          f"same folder, with {FAST_TOKENIZER}.")


def _read_json(path: Path, name: str) -> dict:
    with path.open("rb") as f:
        raw = f.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise HFFolderInvalid(f"{name} is larger than {MAX_JSON_BYTES >> 20} MiB: it should be a few KiB; re-save it.")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise HFFolderInvalid(f"{name} is not valid JSON: re-save it with save_pretrained.") from None
    if not isinstance(value, dict):
        raise HFFolderInvalid(f"{name} is not a JSON object: re-save it with save_pretrained.")
    return value


def known_model_types() -> tuple[frozenset[str], dict[str, str]]:
    """transformers' names (its name tables only, no model code): every model_type, and the sequence
    classification class of each. Imports transformers, lazily."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES

    return frozenset(CONFIG_MAPPING_NAMES), dict(MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES)


def _architecture(config: dict) -> tuple[str, str]:
    architectures = config.get("architectures")
    if (not isinstance(architectures, list) or len(architectures) != 1 or not isinstance(architectures[0], str)
            or not architectures[0].endswith("ForSequenceClassification")):
        raise HFFolderInvalid("config.json must name one *ForSequenceClassification architecture: load the model "
                              "with AutoModelForSequenceClassification, fine-tune it, and save it again.")
    model_type = config.get("model_type")
    model_types, classifiers = known_model_types()
    if not isinstance(model_type, str) or model_type not in model_types:
        raise HFFolderInvalid("config.json's model_type is not one transformers knows: use a model type "
                              "transformers ships (custom code is not run).")
    if classifiers.get(model_type) != architectures[0]:
        raise HFFolderInvalid("config.json's architecture is not the sequence classifier transformers has for its "
                              "model_type: save the model loaded with AutoModelForSequenceClassification.")
    return model_type, architectures[0]


def _class_names(config: dict) -> tuple[str, ...]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not 2 <= len(id2label) <= MAX_CLASSES:
        raise HFFolderInvalid(f"config.json needs id2label with 2 to {MAX_CLASSES} classes: set "
                              "model.config.id2label to the class names and save again.")
    try:
        labels = {int(k): v for k, v in id2label.items()}
    except (TypeError, ValueError):
        labels = {}
    if sorted(labels) != list(range(len(id2label))):
        raise HFFolderInvalid("config.json's id2label keys must be the class ids 0 to num_labels - 1.")
    names = tuple(labels[i] for i in range(len(labels)))
    if not all(isinstance(n, str) and 0 < len(n) <= MAX_LABEL_CHARS for n in names) or len(set(names)) != len(names):
        raise HFFolderInvalid(f"config.json's id2label names must be distinct strings of 1 to {MAX_LABEL_CHARS} "
                              "characters.")
    return names


def _load_tokenizer(path: Path):
    from tokenizers import Tokenizer  # the Rust tokenizer reads JSON; no transformers here

    if path.stat().st_size > MAX_TOKENIZER_BYTES:
        raise HFFolderInvalid(f"tokenizer.json is larger than {MAX_TOKENIZER_BYTES >> 20} MiB.")
    try:
        return Tokenizer.from_file(str(path))
    except Exception:  # the library's message can quote the file
        raise HFFolderInvalid("tokenizer.json could not be read by the tokenizers library: save the tokenizer "
                              f"again with {FAST_TOKENIZER}.") from None


def _pad_token_id(config: dict, tokenizer_config: dict, tokenizer) -> int:
    """The tokenizer's pad token (what padding writes), else config.json's pad_token_id."""
    pad = tokenizer_config.get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    if isinstance(pad, str):
        pad_id = tokenizer.token_to_id(pad)
        if pad_id is not None:
            return pad_id
    pad_id = config.get("pad_token_id")
    if isinstance(pad_id, int) and not isinstance(pad_id, bool) and pad_id >= 0:
        return pad_id
    raise HFFolderInvalid("The tokenizer has no pad token and config.json no pad_token_id: set one "
                          "(tokenizer.pad_token = ...; model.config.pad_token_id = ...) and save both again.")


def _max_length(requested: int | None, tokenizer_config: dict, positions: int | None) -> int:
    cap = min(MAX_LENGTH_CAP, positions or MAX_LENGTH_CAP)
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or not 2 <= requested <= cap:
            raise HFFolderInvalid(f"max_length must be an integer from 2 to {cap} for this model.", "max_length")
        return requested
    default = _positive_int(tokenizer_config.get("model_max_length"))
    return min(default or cap, cap)  # tokenizers without a limit save a huge sentinel (1e30): the cap applies


def _positive_int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
