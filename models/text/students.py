"""Text students: the networks a text teacher is distilled into, over the teacher's own token ids.

Both take one int64 tensor of right-padded ids ``[batch, seq_len]`` (the mask is derived from the pad id, as
for the teacher) and return logits ``[batch, num_labels]``, so the engine's one-input loop trains them as it
trains any student.

- ``transformer``: a small BERT encoder (transformers' ``BertForSequenceClassification``) with the teacher's
  vocabulary. When its widths match a BERT teacher, ``init_from_teacher`` copies the embeddings and every k-th
  encoder layer, as DistilBERT (Sanh et al. 2019) initialises its student; it exports to Hugging Face and ONNX
  (``models.text.exports``).
- ``bilstm``: embeddings, one or two bidirectional LSTM layers, max-pooled over the unpadded positions, and a
  linear head: the cheap student of Tang et al. 2019 ("Distilling task-specific knowledge from BERT into
  simple neural networks"), for CPUs and small budgets.

The specs are pydantic only (no torch, no transformers import) so the API can validate a job before building.
"""

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TextTransformerSpec(_Spec):
    arch: Literal["transformer"]
    layers: int = Field(4, ge=1, le=24)
    hidden_size: int = Field(256, ge=8, le=4096)
    heads: int = Field(4, ge=1, le=64)
    intermediate_size: int = Field(1024, ge=8, le=16384)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    init: Literal["random", "teacher"] = Field(
        "random", description="teacher: copy a BERT teacher's embeddings and every k-th layer (init_from_teacher); "
                              "needs the teacher's hidden_size, heads and intermediate_size")

    @model_validator(mode="after")
    def _heads_divide(self):
        if self.hidden_size % self.heads:
            raise ValueError("hidden_size must be a multiple of heads")
        return self


class TextBiLSTMSpec(_Spec):
    # packed sequences (each row's own length) cannot be vmapped: a sweep's members train one at a time
    BATCHES_MEMBERS: ClassVar[bool] = False
    arch: Literal["bilstm"]
    embedding_dim: int = Field(128, ge=4, le=4096)
    hidden_size: int = Field(256, ge=4, le=4096)
    layers: int = Field(1, ge=1, le=4)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)


TextStudentSpec = Annotated[TextTransformerSpec | TextBiLSTMSpec, Field(discriminator="arch")]
TEXT_ARCHS = ("transformer", "bilstm")


class TextStudentInvalid(ValueError):
    """The student cannot be built or initialised as asked; ``field`` names the job field to change."""

    def __init__(self, message: str, field: str = "student"):
        super().__init__(message)
        self.message = message
        self.field = field


def build_text_student(spec, *, vocab_size: int, num_labels: int, pad_token_id: int, max_positions: int,
                       class_names=None):
    """The student ``spec`` describes, randomly initialised, taking ids and returning logits."""
    if isinstance(spec, TextTransformerSpec):
        return _transformer(spec, vocab_size, num_labels, pad_token_id, max_positions, class_names)
    if isinstance(spec, TextBiLSTMSpec):
        from models.text._bilstm import BiLSTMClassifier

        return BiLSTMClassifier(vocab_size, num_labels, pad_token_id, embedding_dim=spec.embedding_dim,
                                hidden_size=spec.hidden_size, layers=spec.layers, dropout=spec.dropout)
    raise TextStudentInvalid(f"unknown text student {type(spec).__name__}")


def _transformer(spec: TextTransformerSpec, vocab_size, num_labels, pad_token_id, max_positions, class_names):
    from transformers import BertConfig, BertForSequenceClassification

    from models.text.hf_teacher import TokenIdsClassifier

    names = list(class_names) if class_names is not None else [f"class_{i}" for i in range(num_labels)]
    if len(names) != num_labels:
        raise TextStudentInvalid("class_names must have num_labels names")
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=spec.hidden_size, num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads, intermediate_size=spec.intermediate_size,
        max_position_embeddings=max_positions, pad_token_id=pad_token_id,
        hidden_dropout_prob=spec.dropout, attention_probs_dropout_prob=spec.dropout,
        id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
    return TokenIdsClassifier(BertForSequenceClassification(config), pad_token_id)


def init_from_teacher(student, teacher) -> list[int]:
    """Copies a BERT teacher's embeddings, every k-th encoder layer (k = teacher layers // student layers),
    pooler and classifier into a transformer student of the same widths; returns the teacher layers copied.

    Raises ``TextStudentInvalid`` saying which size differs when the weights cannot be copied."""
    import torch

    s_model, t_model = _inner(student), _inner(teacher)
    s_cfg, t_cfg = s_model.config, t_model.config
    for name in ("hidden_size", "num_attention_heads", "intermediate_size", "vocab_size", "num_labels",
                 "hidden_act", "type_vocab_size"):
        if getattr(s_cfg, name) != getattr(t_cfg, name):
            raise TextStudentInvalid(f"initialising from the teacher needs the teacher's {name} "
                                     f"({getattr(t_cfg, name)}); the student has {getattr(s_cfg, name)}", "init")
    if s_cfg.num_hidden_layers > t_cfg.num_hidden_layers:
        raise TextStudentInvalid(f"the student has more layers ({s_cfg.num_hidden_layers}) than the teacher "
                                 f"({t_cfg.num_hidden_layers})", "init")
    if s_cfg.max_position_embeddings > t_cfg.max_position_embeddings:
        raise TextStudentInvalid("the student has more positions than the teacher", "init")
    k = t_cfg.num_hidden_layers // s_cfg.num_hidden_layers
    copied = [i * k for i in range(s_cfg.num_hidden_layers)]
    with torch.no_grad():
        s_emb, t_emb = s_model.bert.embeddings, t_model.bert.embeddings
        s_emb.word_embeddings.weight.copy_(t_emb.word_embeddings.weight)
        s_emb.token_type_embeddings.weight.copy_(t_emb.token_type_embeddings.weight)
        positions = s_emb.position_embeddings.weight.shape[0]
        s_emb.position_embeddings.weight.copy_(t_emb.position_embeddings.weight[:positions])
        s_emb.LayerNorm.load_state_dict(t_emb.LayerNorm.state_dict())
        for s_layer, t_index in zip(s_model.bert.encoder.layer, copied, strict=True):
            s_layer.load_state_dict(t_model.bert.encoder.layer[t_index].state_dict())
        if s_model.bert.pooler is not None and t_model.bert.pooler is not None:
            s_model.bert.pooler.load_state_dict(t_model.bert.pooler.state_dict())
        s_model.classifier.load_state_dict(t_model.classifier.state_dict())
    return copied


def _inner(module):
    """The transformers model inside a ``TokenIdsClassifier`` (or the model itself)."""
    inner = getattr(module, "model", module)
    model_type = getattr(getattr(inner, "config", None), "model_type", None)
    if model_type != "bert" or not hasattr(inner, "bert") or not hasattr(inner, "classifier"):
        raise TextStudentInvalid(f"initialising from the teacher needs BERT models (a transformer student and a "
                                 f"BERT teacher); this one is {model_type!r}: train the student from scratch "
                                 "instead", "init")
    return inner


def text_student_parameters(spec, *, vocab_size: int, num_labels: int, max_positions: int) -> int:
    """The student's parameter count, computed from its spec (nothing is built), for the size limit."""
    if isinstance(spec, TextTransformerSpec):
        h, i = spec.hidden_size, spec.intermediate_size
        embeddings = (vocab_size + max_positions + 2) * h + 2 * h
        layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
        return embeddings + spec.layers * layer + (h * h + h) + (h * num_labels + num_labels)
    e, hidden = spec.embedding_dim, spec.hidden_size
    lstm, width = 0, e
    for _ in range(spec.layers):
        lstm += 2 * 4 * (hidden * width + hidden * hidden + 2 * hidden)
        width = 2 * hidden
    return vocab_size * e + lstm + width * num_labels + num_labels
