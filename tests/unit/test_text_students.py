"""models.text.students: both text students take one ids tensor and return logits; the specs are bounded;
init_from_teacher copies a BERT teacher's layers DistilBERT-style, or says which size stops it."""

import os

import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from models.text.hf_teacher import TokenIdsClassifier
from models.text.students import (
    TextBiLSTMSpec,
    TextStudentInvalid,
    TextStudentSpec,
    TextTransformerSpec,
    build_text_student,
    init_from_teacher,
)
from models.text.tokens import collate_ids
from tests.text_models import tiny_bert

os.environ["HF_HUB_OFFLINE"] = "1"
VOCAB, PAD = 40, 0
IDS = torch.tensor([[2, 5, 6, 7, 3, 0, 0], [2, 9, 3, 0, 0, 0, 0], [2, 11, 12, 13, 14, 15, 3]])
spec_of = TypeAdapter(TextStudentSpec).validate_python


def build(spec, **kw):
    return build_text_student(spec, **{"vocab_size": VOCAB, "num_labels": 3, "pad_token_id": PAD,
                                       "max_positions": 32, **kw})


def test_specs_are_discriminated_and_bounded():
    assert isinstance(spec_of({"arch": "transformer"}), TextTransformerSpec)
    assert spec_of({"arch": "transformer"}).init == "random"
    assert isinstance(spec_of({"arch": "bilstm", "hidden_size": 8}), TextBiLSTMSpec)
    for bad in ({"arch": "transformer", "hidden_size": 30, "heads": 4},  # not a multiple
                {"arch": "transformer", "layers": 0}, {"arch": "transformer", "layers": 100},
                {"arch": "bilstm", "layers": 9}, {"arch": "bilstm", "dropout": 1.0},
                {"arch": "transformer", "init": "pretrained"},
                {"arch": "bilstm", "unknown": 1}, {"arch": "rnn"}):
        with pytest.raises(ValidationError):
            spec_of(bad)


@pytest.mark.parametrize("spec", [
    TextTransformerSpec(arch="transformer", layers=1, hidden_size=16, heads=2, intermediate_size=32, dropout=0.0),
    TextBiLSTMSpec(arch="bilstm", embedding_dim=8, hidden_size=8, dropout=0.0),
])
def test_students_take_ids_and_ignore_padding(spec):
    torch.manual_seed(0)
    student = build(spec).eval()
    with torch.no_grad():
        logits = student(IDS)
        trimmed = student(collate_ids(list(IDS[:2]), PAD))  # 5 columns instead of 7
    assert logits.shape == (3, 3) and logits.dtype == torch.float32
    torch.testing.assert_close(trimmed, logits[:2], atol=1e-5, rtol=1e-5)
    student.train()
    student(IDS).sum().backward()
    assert all(p.grad is not None for p in student.parameters() if p.requires_grad and p.dim() > 1)


def test_transformer_student_carries_class_names():
    spec = TextTransformerSpec(arch="transformer", layers=1, hidden_size=16, heads=2, intermediate_size=32)
    student = build(spec, class_names=["a", "b", "c"])
    assert student.model.config.id2label == {0: "a", 1: "b", 2: "c"} and student.pad_token_id == PAD
    with pytest.raises(TextStudentInvalid):
        build(spec, class_names=["a"])


def test_init_from_teacher_copies_every_kth_layer():
    teacher = TokenIdsClassifier(tiny_bert(VOCAB, layers=4, max_positions=64), PAD)
    spec = TextTransformerSpec(arch="transformer", layers=2, hidden_size=16, heads=2, intermediate_size=32)
    student = build(spec)
    assert init_from_teacher(student, teacher) == [0, 2]
    s, t = student.model, teacher.model
    torch.testing.assert_close(s.bert.embeddings.word_embeddings.weight, t.bert.embeddings.word_embeddings.weight)
    torch.testing.assert_close(s.bert.embeddings.position_embeddings.weight,
                               t.bert.embeddings.position_embeddings.weight[:32])
    for s_i, t_i in ((0, 0), (1, 2)):
        for (name, a), (_, b) in zip(s.bert.encoder.layer[s_i].state_dict().items(),
                                     t.bert.encoder.layer[t_i].state_dict().items(), strict=True):
            torch.testing.assert_close(a, b, msg=name)
    torch.testing.assert_close(s.classifier.weight, t.classifier.weight)


@pytest.mark.parametrize("student_kw,teacher_kw,says", [
    ({"hidden_size": 32, "heads": 2, "intermediate_size": 32}, {}, "hidden_size"),
    ({"hidden_size": 16, "heads": 4, "intermediate_size": 32}, {}, "num_attention_heads"),
    ({"hidden_size": 16, "heads": 2, "intermediate_size": 64}, {}, "intermediate_size"),
    ({"hidden_size": 16, "heads": 2, "intermediate_size": 32, "layers": 3}, {"layers": 2}, "more layers"),
    ({"hidden_size": 16, "heads": 2, "intermediate_size": 32}, {"max_positions": 16}, "more positions"),
])
def test_init_from_teacher_says_why_it_cannot(student_kw, teacher_kw, says):
    teacher = TokenIdsClassifier(tiny_bert(VOCAB, **teacher_kw), PAD)
    student = build(TextTransformerSpec(arch="transformer", **{"layers": 1, **student_kw}))
    with pytest.raises(TextStudentInvalid, match=says) as e:
        init_from_teacher(student, teacher)
    assert e.value.field == "init"


def test_init_from_teacher_refuses_other_model_types_and_the_bilstm():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    distil = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=VOCAB, dim=16, n_layers=1, n_heads=2,
                                                                  hidden_dim=32, num_labels=3))
    student = build(TextTransformerSpec(arch="transformer", layers=1, hidden_size=16, heads=2, intermediate_size=32))
    with pytest.raises(TextStudentInvalid, match="'distilbert'"):
        init_from_teacher(student, TokenIdsClassifier(distil, PAD))
    with pytest.raises(TextStudentInvalid, match="BERT"):
        init_from_teacher(build(TextBiLSTMSpec(arch="bilstm")), TokenIdsClassifier(tiny_bert(VOCAB), PAD))
