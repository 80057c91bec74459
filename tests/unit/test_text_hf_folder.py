"""models.text.hf_folder: a save_pretrained folder is checked from its file names and small JSON files, and each
refusal says what to do, names the field, and quotes neither the server's paths nor the files' contents."""

import hashlib
import json
import shutil

import pytest

from models.text.hf_folder import MAX_LENGTH_CAP, HFFolderInvalid, check_hf_folder
from tests.text_models import CLASS_NAMES, save_teacher_folder


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_teacher_folder(tmp_path_factory.mktemp("hf") / "teacher")


@pytest.fixture
def folder(saved, tmp_path):
    return shutil.copytree(saved, tmp_path / "upload")


def edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del config[key]
    (folder / "config.json").write_text(json.dumps(config))


def test_a_saved_folder_passes_and_says_what_it_holds(folder):
    info = check_hf_folder(folder)
    assert info.model_type == "bert" and info.architecture == "BertForSequenceClassification"
    assert info.num_labels == 3 and info.class_names == CLASS_NAMES
    assert info.max_length == 32  # the tokenizer's model_max_length
    assert info.pad_token_id == 0 and info.vocab_size == json.loads((folder / "config.json").read_text())["vocab_size"]
    assert info.tokenizer_sha256 == hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest()
    assert (info.hidden_size, info.num_layers, info.max_position_embeddings) == (16, 2, 64)
    with pytest.raises(AttributeError):
        info.num_labels = 4  # frozen


def test_max_length_user_value_default_and_caps(folder):
    assert check_hf_folder(folder, max_length=16).max_length == 16
    for bad in (1, 65, 600, True):  # 65: past the config's max_position_embeddings
        with pytest.raises(HFFolderInvalid) as e:
            check_hf_folder(folder, max_length=bad)
        assert e.value.field == "max_length" and "64" in e.value.message
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["model_max_length"] = int(1e30)  # what tokenizers without a limit save
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    assert check_hf_folder(folder).max_length == 64
    edit_config(folder, max_position_embeddings=4096)
    assert check_hf_folder(folder).max_length == MAX_LENGTH_CAP


def test_sharded_weights_with_their_index_pass(folder):
    (folder / "model.safetensors").rename(folder / "model-00001-of-00001.safetensors")
    with pytest.raises(HFFolderInvalid, match="index.json is missing"):
        check_hf_folder(folder)
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": {"bert.pooler.dense.weight": "model-00001-of-00001.safetensors"}}))
    assert check_hf_folder(folder).num_labels == 3
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"weight_map": {"x": "model-00001-of-00002.safetensors"}}))
    with pytest.raises(HFFolderInvalid, match="shards the folder does not hold"):
        check_hf_folder(folder)


def _pickle(folder):
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")


def _nested_pickle(folder):
    (folder / "extra").mkdir()
    (folder / "extra" / "optimizer.pt").write_bytes(b"x")


def _no_weights(folder):
    (folder / "model.safetensors").unlink()


def _slow_tokenizer(folder):
    (folder / "tokenizer.json").unlink()
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n")


def _no_tokenizer(folder):
    (folder / "tokenizer.json").unlink()


def _big_config(folder):
    edit_config(folder, padding="x" * (1 << 20))


def _symlink(folder):
    (folder / "notes.txt").symlink_to("/etc/hostname")


def _bad_tokenizer(folder):
    (folder / "tokenizer.json").write_text('{"SECRET-CONTENT": 1}')


def _lfs_pointer(folder):
    (folder / "model.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n")


def _damaged_header(folder):
    (folder / "model.safetensors").write_bytes((12).to_bytes(8, "little") + b"{SECRET-CONT" + b"\0" * 64)


def _one_class(folder):
    edit_config(folder, id2label={"0": "only"}, label2id={"only": 0})


REFUSALS = [
    (_pickle, "safe_serialization=True"),
    (_nested_pickle, "pickle"),
    (_no_weights, "no model.safetensors"),
    (_lfs_pointer, "git lfs pull"),
    (_damaged_header, "damaged header"),
    (lambda f: (f / "config.json").unlink(), "no config.json"),
    (lambda f: (f / "config.json").write_text("{SECRET-CONTENT"), "not valid JSON"),
    (_big_config, "larger than 1 MiB"),
    (lambda f: edit_config(f, auto_map={"AutoModel": "modeling_evil.Evil"}), "auto_map"),
    (_slow_tokenizer, "use_fast=True"),
    (_no_tokenizer, "no tokenizer"),
    (_bad_tokenizer, "could not be read"),
    (lambda f: edit_config(f, architectures=["BertModel"]), "ForSequenceClassification"),
    (lambda f: edit_config(f, architectures=["BertForSequenceClassification"] * 2), "one"),
    (lambda f: edit_config(f, architectures=None), "ForSequenceClassification"),
    (lambda f: edit_config(f, model_type="SECRET-CONTENT"), "model_type is not one transformers knows"),
    (lambda f: edit_config(f, model_type="roberta"), "sequence classifier transformers has"),
    (_one_class, "2 to"),
    (lambda f: edit_config(f, id2label={"0": "a", "2": "b"}), "0 to num_labels - 1"),
    (lambda f: edit_config(f, id2label={"0": "a", "1": "a"}), "distinct"),
    (lambda f: edit_config(f, vocab_size=5), "more tokens than the model's vocab_size"),
    (_symlink, "symbolic link"),
]


@pytest.mark.parametrize("damage,says", REFUSALS)
def test_refusals_say_what_to_do_and_echo_nothing(folder, tmp_path, damage, says):
    damage(folder)
    with pytest.raises(HFFolderInvalid) as e:
        check_hf_folder(folder)
    assert says in e.value.message
    assert e.value.field == "file"
    assert str(tmp_path) not in e.value.message and "SECRET-CONTENT" not in e.value.message
    assert "/" not in e.value.message.replace("model-0000x-of-0000y", "")  # no paths of any kind
