"""Teachers as everyday classifiers are: several outputs, probabilities, integer inputs (issue 26).

The kind rules and the output choice on their own, then the upload through the API with the real sandbox
and teachers made by the real converters (skl2onnx), then the job checks of dtypes."""

import io
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from models.teacher_outputs import (
    PROBABILITY_FLOOR,
    ScoredTeacher,
    TeacherOutputMismatch,
    as_logits,
    choose_output,
    detect_kind,
    mismatch,
)
from worker.engine.losses import ensemble_log_probs

# -- the kind of scores --------------------------------------------------------------------------------------


def test_kinds_are_told_apart_from_the_rows():
    logits = torch.randn(6, 5) * 3
    probs = logits.softmax(-1)
    assert detect_kind(logits) == "logits"
    assert detect_kind(probs) == "probabilities"
    assert detect_kind(probs.log()) == "log_probabilities"
    assert detect_kind(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])) == "probabilities"  # exact zeros
    assert detect_kind(torch.tensor([[0.0, -float("inf")], [-0.6931, -0.6931]])) == "log_probabilities"
    # a single row summing to 1 is not enough to call a logits teacher's batch probabilities
    assert mismatch(torch.tensor([[0.5, 0.5], [2.0, -1.0]]), "logits") is None
    assert "probabilities" in mismatch(probs, "logits")
    assert "not a probability distribution" in mismatch(logits, "probabilities")
    assert "not log-probabilities" in mismatch(logits, "log_probabilities")


def test_probabilities_become_log_probabilities_so_temperature_softens_them():
    p = torch.tensor([[0.7, 0.2, 0.1, 0.0]])  # a random forest's exact zero
    v = as_logits(p, "probabilities")
    assert torch.isfinite(v).all() and float(v[0, 3]) == pytest.approx(np.log(PROBABILITY_FLOOR), rel=1e-5)
    for t in (1.0, 4.0):
        q = ensemble_log_probs(v[None], t, "arithmetic").exp()
        floored = p.clamp(min=PROBABILITY_FLOOR).double()
        soft = floored ** (1 / t) / (floored ** (1 / t)).sum()  # the paper's softmax(log p / T), log 0 floored
        torch.testing.assert_close(q.double(), soft, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ensemble_log_probs(v[None], 1.0, "arithmetic").exp(), p, atol=1e-6, rtol=0)
    # treated as logits, the same probabilities would be flattened towards uniform at T = 4
    flat = ensemble_log_probs(p[None], 4.0, "arithmetic").exp()
    assert float(flat.max() - flat.min()) < 0.2 < float(q.max() - q.min())
    log_p = torch.tensor([[0.0, -float("inf")]])
    assert torch.isfinite(as_logits(log_p, "log_probabilities")).all()


def test_ensemble_members_of_different_kinds_agree_once_scored():
    logits = torch.randn(4, 3)
    members = torch.stack([as_logits(logits, "logits"), as_logits(logits.softmax(-1), "probabilities"),
                           as_logits(logits.log_softmax(-1), "log_probabilities")])
    for mode in ("arithmetic", "geometric"):
        q = ensemble_log_probs(members, 2.0, mode).exp()
        torch.testing.assert_close(q, (logits / 2.0).softmax(-1), atol=1e-5, rtol=1e-4)


class _Softmaxed(nn.Module):
    def forward(self, x):
        return torch.softmax(x[:, :3] * 5, -1)


def test_a_scored_teacher_fails_on_scores_that_contradict_its_kind():
    x = torch.randn(8, 4)
    with pytest.raises(TeacherOutputMismatch, match="output_kind=probabilities"):
        ScoredTeacher(_Softmaxed(), "logits", "tch_x")(x)
    out = ScoredTeacher(_Softmaxed(), "probabilities", "tch_x")(x)
    torch.testing.assert_close(out.exp(), _Softmaxed()(x).clamp(min=PROBABILITY_FLOOR))


def test_the_output_is_chosen_by_name_index_or_as_the_only_scores():
    skl = [{"name": "label", "shape": [2], "dtype": "int64"},
           {"name": "probabilities", "shape": [2, 3], "dtype": "float32"}]
    assert choose_output(skl, None, 2) == "probabilities"
    assert choose_output(skl, "1", 2) == "probabilities"
    assert choose_output([{"name": "0", "shape": [2, 3], "dtype": "float32"}], None, 2) is None
    with pytest.raises(ValueError, match="'label' is shaped \\[2\\] of int64"):
        choose_output(skl, "label", 2)
    with pytest.raises(ValueError, match="no output 'proba'.*'label' shaped \\[2\\] of int64"):
        choose_output(skl, "proba", 2)
    two = [{"name": "a", "shape": [2, 3], "dtype": "float32"}, {"name": "b", "shape": [2, 5], "dtype": "float32"}]
    with pytest.raises(ValueError, match="2 outputs shaped \\[batch, classes\\]: 'a' shaped \\[2, 3\\].*'b' shaped"):
        choose_output(two, None, 2)
    with pytest.raises(ValueError, match="only class labels"):
        choose_output(skl[:1], None, 2)


# -- uploads through the API, in the real sandbox ------------------------------------------------------------

def _onnx_file(outputs: list[str]) -> bytes:
    """A 4 → 3 linear ONNX model returning any of: its scores, their softmax, their argmax."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.random.RandomState(0).randn(12).tolist())
    nodes = [helper.make_node("MatMul", ["x", "w"], ["scores"]),
             helper.make_node("Softmax", ["scores"], ["probs"], axis=1),
             helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0)]
    kinds = {"scores": (TensorProto.FLOAT, ["n", 3]), "probs": (TensorProto.FLOAT, ["n", 3]),
             "label": (TensorProto.INT64, ["n"])}
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
                              [helper.make_tensor_value_info(o, *kinds[o]) for o in outputs], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _upload(client, content: bytes, shape, fmt="onnx", **fields):
    return client.post("/v1/teachers", files={"file": (f"t.{'onnx' if fmt == 'onnx' else 'pt'}", content)},
                       data={"name": "t", "format": fmt, "input_shape": json.dumps(shape), **fields})


def _detail(r) -> str:
    return r.json()["detail"]


def test_a_scikit_learn_model_from_skl2onnx_is_distilled_from_its_probabilities(client):
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.RandomState(0)
    x = rng.rand(60, 4).astype(np.float32)
    forest = RandomForestClassifier(5, random_state=0).fit(x, (x[:, 0] > 0.5).astype(int) + (x[:, 1] > 0.5))
    r = _upload(client, to_onnx(forest, x[:1], options={"zipmap": False}).SerializeToString(), [4])
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["output"], t["output_kind"], t["num_classes"], t["input_dtype"]) == \
        ("probabilities", "probabilities", 3, "float32")
    assert client.get(f"/v1/teachers/{t['id']}").json()["output_kind"] == "probabilities"
    # the converter's default ZipMap output (a list of {class: probability}) is read as the same scores
    r = _upload(client, to_onnx(forest, x[:1]).SerializeToString(), [4])
    assert r.status_code == 201 and r.json()["output"] == "output_probability", r.text


def test_several_candidate_outputs_and_label_only_models_are_422s_that_say_what_to_choose(client):
    r = _upload(client, _onnx_file(["scores", "probs", "label"]), [4])
    assert r.status_code == 422, r.text
    assert "'scores' shaped [2, 3] of float32" in _detail(r) and "'probs' shaped [2, 3]" in _detail(r)
    assert "'output'" in _detail(r) and r.json()["errors"][0]["field"] == "output"
    r = _upload(client, _onnx_file(["scores", "probs", "label"]), [4], output="probs")
    assert r.status_code == 201 and r.json()["output_kind"] == "probabilities", r.text
    r = _upload(client, _onnx_file(["scores", "probs"]), [4], output="0", output_kind="logits")
    assert r.status_code == 201 and (r.json()["output"], r.json()["output_kind"]) == ("scores", "logits"), r.text
    r = _upload(client, _onnx_file(["label"]), [4])
    assert r.status_code == 422 and "only class labels" in _detail(r) and "'label' shaped [2] of int64" in _detail(r)
    r = _upload(client, _onnx_file(["scores", "label"]), [4], output="label")
    assert r.status_code == 422 and "needs a float output shaped [batch, classes]" in _detail(r)
    r = _upload(client, _onnx_file(["scores"]), [4], output_kind="probabilities")
    assert r.status_code == 422 and "not a probability distribution" in _detail(r), r.text
    assert r.json()["errors"][0]["field"] == "output_kind"
    r = _upload(client, _onnx_file(["scores"]), [4], output_kind="softmax")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "output_kind"


class IdsClassifier(nn.Module):
    """Category ids [batch, 6] → embedding bag → 3 classes."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(50, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.embedding(x).mean(1))


def _scripted(net) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(net.eval()), buf)
    return buf.getvalue()


def test_an_integer_input_teacher_is_probed_with_ids_and_jobs_check_the_dtype(client, tmp_path):
    ids = _scripted(IdsClassifier())
    r = _upload(client, ids, [6], fmt="torchscript")
    # float zeros break its embedding: the refusal names the operator and what to change, not torch's own text
    assert r.status_code == 422 and "aten::embedding" in _detail(r) and "input_dtype=int64" in _detail(r), r.text
    assert r.json()["errors"][0]["field"] == "input_dtype"
    r = _upload(client, ids, [6], fmt="torchscript", input_dtype="int64")
    assert r.status_code == 201 and r.json()["input_dtype"] == "int64", r.text
    teacher = r.json()["id"]
    r = _upload(client, ids, [6], fmt="torchscript", input_dtype="int8")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input_dtype"

    floats = tmp_path / "floats.npz"
    np.savez(floats, x=np.random.rand(20, 6).astype(np.float32), y=np.arange(20) % 3)
    ints = tmp_path / "ints.npz"
    np.savez(ints, x=np.random.RandomState(0).randint(0, 50, (20, 6)), y=np.arange(20) % 3)
    sets = {}
    for path in (floats, ints):
        with open(path, "rb") as f:
            r = client.post("/v1/transfer-sets", files={"file": (path.name, f)}, data={"name": path.stem})
        assert r.status_code == 201, r.text
        sets[path.stem] = r.json()
    assert (sets["floats"]["dtype"], sets["ints"]["dtype"]) == ("float32", "int64")

    def job(ts, student):
        return client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts["id"],
                                             "student": student, "hyperparameters": {"epochs": 1}})

    bag = {"arch": "embedding_bag", "num_embeddings": 50}
    r = job(sets["floats"], bag)
    assert r.status_code == 422, r.text
    assert "float32 samples" in _detail(r) and "int64 inputs" in _detail(r)
    assert r.json()["errors"][0]["field"] == "transfer_set_id"
    r = job(sets["ints"], {"arch": "cnn"})
    assert r.status_code == 422 and "takes float32 images" in _detail(r)
    assert job(sets["ints"], bag).status_code == 202


# -- tables --------------------------------------------------------------------------------------------------

def _table(n=60, seed=0, **extra):
    import pyarrow as pa

    rng = np.random.RandomState(seed)
    a, b = rng.rand(n), rng.randint(0, 5, n)
    return pa.table({"a": a, "b": b, "label": np.where(a > 0.5, "high", "low"), **extra})


def _post_table(client, name: str, content: bytes, **fields):
    return client.post("/v1/transfer-sets", files={"file": (name, content)}, data={"name": "tab", **fields})


def _csv(table) -> bytes:
    import pyarrow.csv as pcsv

    buf = io.BytesIO()
    pcsv.write_csv(table, buf)
    return buf.getvalue()


def test_csv_and_parquet_tables_become_transfer_sets(client):
    import pyarrow.parquet as pq

    split = ["train"] * 45 + ["test"] * 15
    r = _post_table(client, "data.csv", _csv(_table(split=split)))
    assert r.status_code == 201, r.text
    ts = r.json()
    assert (ts["kind"], ts["num_samples"], ts["num_test"], ts["sample_shape"], ts["dtype"]) == \
        ("table", 45, 15, [2], "float32")
    assert ts["class_names"] == ["high", "low"] and ts["spec"]["feature_columns"] == ["a", "b"]
    buf = io.BytesIO()
    pq.write_table(_table(), buf)
    r = _post_table(client, "data.parquet", buf.getvalue(), label_column="b", feature_columns='["a"]')
    assert r.status_code == 201, r.text
    assert (r.json()["sample_shape"], r.json()["num_classes"], r.json()["num_test"]) == ([1], 5, 12)
    # integer features only: ids, kept as int64; no label column: unlabelled
    import pyarrow as pa

    ids = pa.table({"c0": np.arange(30) % 7, "c1": np.arange(30) % 5})
    r = _post_table(client, "ids.csv", _csv(ids))
    assert r.status_code == 201 and (r.json()["dtype"], r.json()["labelled"]) == ("int64", False), r.text


def test_table_problems_name_what_to_fix(client, monkeypatch):
    a = [str(v) for v in np.random.RandomState(0).rand(60)]
    a[9] = "n/a"
    r = _post_table(client, "bad.csv", _csv(_table().set_column(0, "a", __import__("pyarrow").array(a))))
    assert r.status_code == 422, r.text
    assert "feature column 'a' is not numeric" in _detail(r) and "'n/a'" in _detail(r) and "row 10" in _detail(r)
    r = _post_table(client, "data.csv", _csv(_table()), label_column="target")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "label_column", r.text
    r = _post_table(client, "data.csv", _csv(_table()), feature_columns='["a", "nope"]')
    assert r.status_code == 422 and "'nope'" in _detail(r), r.text
    r = _post_table(client, "data.csv", _csv(_table(split=["train"] * 50 + ["val"] * 10)))
    assert r.status_code == 422 and "'train' or 'test'" in _detail(r), r.text
    r = _post_table(client, "data.csv", b"a,b\n1,2\n3")
    assert r.status_code == 422, r.text
    monkeypatch.setenv("DISTILLERY_TABLE_MAX_ROWS", "50")
    from tests.conftest import clear_caches

    clear_caches()
    r = _post_table(client, "data.csv", _csv(_table()))
    assert r.status_code == 413 and "DISTILLERY_TABLE_MAX_ROWS" in _detail(r), r.text


# -- the student takes the teacher's dtype in every format ---------------------------------------------------

def test_an_embedding_bag_student_exports_to_every_format_taking_ids(tmp_path):
    import onnxruntime as ort

    from models.export import EXPORT_FORMATS, PlainSoftmax, export, load_safetensors_student
    from models.zoo import build_student

    spec = {"arch": "embedding_bag", "num_embeddings": 50, "embedding_dim": 8, "hidden_sizes": [16]}
    model = PlainSoftmax(build_student(spec, [6], 3, "int64"), 3, input_dtype="int64").eval()
    x = torch.randint(0, 50, (5, 6))
    expected = model(x)
    torch.testing.assert_close(expected.sum(-1), torch.ones(5))
    for fmt, ext in EXPORT_FORMATS.items():
        # onnx_int8 is made from the onnx file with calibration samples (models/int8.py); huggingface is a text
        # student's, with its teacher's tokenizer (worker/jobs/text_exports.py)
        if fmt in ("onnx_int8", "huggingface"):
            continue
        path = tmp_path / f"s.{ext}"
        export(fmt, model, [6], path, student_spec=spec)
        if fmt == "onnx":
            session = ort.InferenceSession(str(path))
            assert session.get_inputs()[0].type == "tensor(int64)"
            got = torch.from_numpy(session.run(None, {"input": x.numpy()})[0])
        elif fmt == "torchscript":
            got = torch.jit.load(str(path))(x)
        elif fmt == "exported_program":
            got = torch.export.load(str(path)).module()(x)
        else:
            got = load_safetensors_student(path)(x)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    assert onnx.load(str(tmp_path / "s.onnx")).graph.input[0].type.tensor_type.elem_type == TensorProto.INT64


def test_a_safetensors_embedding_bag_teacher_is_built_for_ids(client, tmp_path):
    from safetensors.torch import save_file

    from models.zoo import build_student

    config = {"num_embeddings": 40, "embedding_dim": 8, "hidden_sizes": [16], "num_classes": 4}
    net = build_student({"arch": "embedding_bag", **{k: v for k, v in config.items() if k != "num_classes"}},
                        [5], 4, "int64")
    save_file(net.state_dict(), str(tmp_path / "bag.safetensors"))
    fields = {"name": "bag", "format": "safetensors", "input_shape": "[5]", "arch": "embedding_bag",
              "arch_config": json.dumps(config)}
    with open(tmp_path / "bag.safetensors", "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("bag.safetensors", f)}, data={**fields, "input_dtype": "int64"})
    assert r.status_code == 201 and (r.json()["num_classes"], r.json()["output_kind"]) == (4, "logits"), r.text
    with open(tmp_path / "bag.safetensors", "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("bag.safetensors", f)}, data=fields)
    assert r.status_code == 422 and "embeds integer ids" in _detail(r), r.text
