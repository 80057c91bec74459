"""models.text.hf_teacher and models.text.tokens: a checked folder loads as a one-input teacher whose logits
are the Hugging Face model's own, and texts become the same ids transformers' tokenizer gives."""

import os

import numpy as np
import pytest
import torch

from models.text.hf_folder import check_hf_folder
from models.text.hf_teacher import TokenIdsClassifier, load_hf_teacher
from models.text.tokens import cache_key, collate_ids, encode_texts, lengths, load_tokenizer
from tests.text_models import save_teacher_folder, sentences

os.environ["HF_HUB_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_teacher_folder(tmp_path_factory.mktemp("hf") / "teacher", model_max_length=16)


@pytest.fixture(scope="module")
def info(folder):
    return check_hf_folder(folder)


def test_tokens_match_transformers_tokenizer_truncated_and_padded(folder, info):
    from transformers import AutoTokenizer

    texts = ["the cat sat", "a very very quick red dog ran under the big green tree over the roof again and again",
             "zebra"]  # the last word is unknown
    ids = encode_texts(folder / "tokenizer.json", texts, info.max_length, info.pad_token_id)
    assert ids.dtype == np.int64 and ids.shape == (3, 16)
    expected = AutoTokenizer.from_pretrained(folder)(texts, truncation=True, max_length=16, padding="max_length")
    assert ids.tolist() == expected["input_ids"]
    assert ids[1, -1] == load_tokenizer(folder / "tokenizer.json").token_to_id("[SEP]")  # truncation keeps [SEP]
    assert (ids[0, 5:] == info.pad_token_id).all()


def test_teacher_takes_ids_and_gives_the_models_logits(folder, info):
    from transformers import AutoModelForSequenceClassification

    teacher = load_hf_teacher(folder, info)
    assert isinstance(teacher, TokenIdsClassifier) and not teacher.training and not teacher.model.training
    ids = torch.from_numpy(encode_texts(folder / "tokenizer.json", sentences(5, seed=1), 16, info.pad_token_id))
    with torch.no_grad():
        logits = teacher(ids)
        reference = AutoModelForSequenceClassification.from_pretrained(folder).eval()(
            input_ids=ids, attention_mask=(ids != 0).long()).logits
        trimmed = teacher(collate_ids(list(ids), info.pad_token_id))
        int32 = teacher(ids.int())
    assert logits.shape == (5, 3)
    torch.testing.assert_close(logits, reference)
    torch.testing.assert_close(trimmed, logits, atol=1e-5, rtol=1e-5)  # padding is masked: trimming changes nothing
    torch.testing.assert_close(int32, logits)


def test_collate_trims_to_the_batch_longest_and_pads_ragged_rows():
    fixed = torch.tensor([[2, 5, 3, 0, 0, 0], [2, 5, 6, 7, 3, 0]])
    assert collate_ids(list(fixed), 0).tolist() == [[2, 5, 3, 0, 0], [2, 5, 6, 7, 3]]
    assert lengths(fixed, 0).tolist() == [3, 5]
    ragged = collate_ids([np.array([2, 3]), [2, 9, 9, 3]], 0)
    assert ragged.dtype == torch.long and ragged.tolist() == [[2, 3, 0, 0], [2, 9, 9, 3]]
    assert collate_ids([[7, 7, 7]], 7).tolist() == [[7]]  # all padding: one column, not zero


def test_cache_key_changes_with_each_part():
    key = cache_key("a" * 64, 128, "set-1")
    assert len(key) == 64 and key == cache_key("a" * 64, 128, "set-1")
    assert len({key, cache_key("b" * 64, 128, "set-1"), cache_key("a" * 64, 64, "set-1"),
                cache_key("a" * 64, 128, "set-2")}) == 4
