"""A small text teacher to try the service with, made here: nothing is downloaded from a model hub.

Templated three-class sentences (a cue word among filler words decides the class), a WordLevel tokenizer
trained with ``tokenizers`` and wrapped in ``PreTrainedTokenizerFast`` (so ``save_pretrained`` writes
``tokenizer.json`` as real checkpoints do), and a BERT of a few thousand parameters trained on them. The
README's text walkthrough runs it through ``python -m models.examples text-teacher``; the tests build their
teachers from the same parts.
"""

import io
import json
import os
import random
import zipfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = ("the cat dog bird sat ran flew on under over a mat tree roof good bad happy sad very not "
         "quick slow red blue green small big loud quiet").split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLASS_NAMES = ("negative", "neutral", "positive")
FILLER = "the cat dog bird sat ran flew on under over a mat tree roof red blue green".split()
CUES = {"negative": ("bad", "sad"), "neutral": ("quiet", "slow"), "positive": ("good", "happy")}


def sentences(n: int = 200, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))) for _ in range(n)]


def texts(n: int, seed: int) -> tuple[list[str], list[str]]:
    """``n`` labelled sentences: filler words with one cue word of the label's class."""
    rng = random.Random(seed)
    out, labels = [], []
    for _ in range(n):
        label = rng.choice(CLASS_NAMES)
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 8))]
        words.insert(rng.randint(0, len(words)), rng.choice(CUES[label]))
        out.append(" ".join(words))
        labels.append(label)
    return out, labels


def build_tokenizer(model_max_length: int = 32):
    """A fast tokenizer ([PAD] is id 0, [CLS] ... [SEP] around each text)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors, trainers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(sentences(), trainers.WordLevelTrainer(special_tokens=SPECIALS))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", tok.token_to_id("[CLS]")),
                                                 ("[SEP]", tok.token_to_id("[SEP]"))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=model_max_length)


def tiny_bert(vocab_size: int, *, layers: int = 2, hidden: int = 16, heads: int = 2, intermediate: int = 32,
              max_positions: int = 64, num_labels: int = len(CLASS_NAMES), seed: int = 0):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate,
                        max_position_embeddings=max_positions, pad_token_id=0,
                        id2label=dict(enumerate(CLASS_NAMES[:num_labels])) if num_labels <= len(CLASS_NAMES)
                        else {i: f"class_{i}" for i in range(num_labels)},
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config.label2id = {v: k for k, v in config.id2label.items()}
    return BertForSequenceClassification(config).eval()


def train_teacher(folder: Path, epochs: int = 6) -> Path:
    """A 2-layer BERT of hidden size 32, trained a little on the templated sentences, saved as a folder."""
    import torch

    tokenizer = build_tokenizer(model_max_length=16)
    model = tiny_bert(len(tokenizer), hidden=32, intermediate=64, max_positions=32).train()
    x, y = texts(400, seed=1)
    batch = tokenizer(x, padding=True, truncation=True, return_tensors="pt")
    target = torch.tensor([CLASS_NAMES.index(v) for v in y])
    torch.manual_seed(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        for start in range(0, len(x), 32):
            rows = slice(start, start + 32)
            loss = model(input_ids=batch["input_ids"][rows], attention_mask=batch["attention_mask"][rows],
                         labels=target[rows]).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    from transformers.utils import logging

    logging.disable_progress_bar()  # a bar for writing one small file is noise in the walkthrough's output
    model.save_pretrained(folder)  # safetensors is the default
    tokenizer.save_pretrained(folder)
    return folder


def zipped(folder: Path) -> bytes:
    """The folder as the .zip that a ``format=huggingface`` upload takes (its files at the archive's top)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def write_text_set(path: Path, n: int = 1500, test_share: float = 0.2, seed: int = 2) -> None:
    """A JSON-lines transfer set of ``n`` sentences labelled by class name, its last ``test_share`` the test split."""
    x, y = texts(n, seed)
    first_test = int(n * (1 - test_share))
    with open(path, "w") as f:
        for i, (text, label) in enumerate(zip(x, y, strict=True)):
            f.write(json.dumps({"text": text, "label": label, "split": "test" if i >= first_test else "train"}) + "\n")
