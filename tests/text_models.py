"""Tiny text teachers for the text tests, built here because nothing can be downloaded: the parts of
models/text/examples.py (a WordLevel tokenizer, a BERT of a few thousand parameters), saved together as a
Hugging Face folder."""

from pathlib import Path

from models.text.examples import CLASS_NAMES, build_tokenizer, sentences, tiny_bert

__all__ = ["CLASS_NAMES", "build_tokenizer", "save_teacher_folder", "sentences", "tiny_bert"]


def save_teacher_folder(folder: Path, *, layers: int = 2, model_max_length: int = 32, **bert) -> Path:
    """A checkpoint folder as ``model.save_pretrained`` + ``tokenizer.save_pretrained`` write it (untrained)."""
    tokenizer = build_tokenizer(model_max_length)
    model = tiny_bert(len(tokenizer), layers=layers, **bert)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)  # safetensors is the default
    tokenizer.save_pretrained(folder)
    return folder
