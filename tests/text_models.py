"""Tiny text teachers for the text tests, built here because nothing can be downloaded.

A WordLevel tokenizer trained on generated sentences (wrapped in ``PreTrainedTokenizerFast`` so
``save_pretrained`` writes ``tokenizer.json`` and ``tokenizer_config.json`` as real checkpoints do) and a
BERT of a few thousand parameters, saved together as a Hugging Face folder.
"""

import os
import random
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = ("the cat dog bird sat ran flew on under over a mat tree roof good bad happy sad very not "
         "quick slow red blue green small big loud quiet").split()
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CLASS_NAMES = ("negative", "neutral", "positive")


def sentences(n: int = 200, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))) for _ in range(n)]


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


def save_teacher_folder(folder: Path, *, layers: int = 2, model_max_length: int = 32, **bert) -> Path:
    """A checkpoint folder as ``model.save_pretrained`` + ``tokenizer.save_pretrained`` write it."""
    tokenizer = build_tokenizer(model_max_length)
    model = tiny_bert(len(tokenizer), layers=layers, **bert)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)  # safetensors is the default
    tokenizer.save_pretrained(folder)
    return folder
