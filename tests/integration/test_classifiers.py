"""Any classifier people have, distilled end to end through the API with a real worker (issue 26).

Teachers made by the real converters (skl2onnx) from scikit-learn models, a network that ends in softmax,
and a teacher over category ids; transfer sets as CSV and Parquet tables. All on scikit-learn's digits (the
built-in set's own train/test split, so every job is measured on the same 360 images) or on a generated
table of ids, with small students and few epochs. One embedded stack serves the module."""

import io
import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from models.transfer_sets import load_builtin
from tests.integration.stack import running_stack

pytestmark = pytest.mark.slow

JOB_SECONDS = 900  # two shared cores: a job with a sandboxed teacher pass takes tens of seconds there
STUDENT = {"arch": "mlp", "hidden_sizes": [64]}
HP = {"epochs": 15, "batch_size": 64, "learning_rate": 0.1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("classifiers")) as s:
        yield s


@pytest.fixture(scope="module")
def client(stack):
    with stack.client() as c:
        yield c


@pytest.fixture(scope="module")
def digits():
    return load_builtin("digits")


def upload_teacher(client, content: bytes, filename: str, shape, **fields) -> dict:
    fmt = "onnx" if filename.endswith(".onnx") else "torchscript"
    r = client.post("/v1/teachers", files={"file": (filename, content)},
                    data={"name": filename, "format": fmt, "input_shape": json.dumps(shape), **fields})
    assert r.status_code == 201, r.text
    return r.json()


def upload_set(client, filename: str, content: bytes, **fields) -> dict:
    r = client.post("/v1/transfer-sets", files={"file": (filename, content)}, data={"name": filename, **fields})
    assert r.status_code == 201, r.text
    return r.json()


def distil(stack, client, teachers: list[str], ts_id: str, *, student=None, hp=None, baseline=False,
           ok=True) -> dict:
    r = client.post("/v1/jobs", json={"teacher_ids": teachers, "transfer_set_id": ts_id,
                                      "student": student or STUDENT, "hyperparameters": hp or HP,
                                      "baseline": baseline})
    assert r.status_code == 202, r.text
    job = stack.wait_for_job(client, r.json()["id"], timeout=JOB_SECONDS)
    if ok:
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')[-3000:]}"
    return job


def assert_student_keeps_up(job: dict) -> None:
    teacher, student = job["result"]["teacher"]["test_accuracy"], job["result"]["student"]["test_accuracy"]
    assert teacher > 0.8, job["result"]
    assert student >= teacher - 0.03, job["result"]


def digits_table(data, labels=lambda y: y) -> "object":
    import pyarrow as pa

    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    columns = {f"p{i}": x[:, i] for i in range(x.shape[1])}
    split = ["train"] * len(data.x_train) + ["test"] * len(data.x_test)
    return pa.table({**columns, "digit": labels(y), "split": split})


def to_onnx_bytes(model, x) -> bytes:
    from skl2onnx import to_onnx

    return to_onnx(model, x[:1], options={"zipmap": False}).SerializeToString()


def test_gradient_boosting_from_skl2onnx_on_a_csv_set(stack, client, digits):
    import pyarrow.csv as pcsv
    from sklearn.ensemble import GradientBoostingClassifier

    gbdt = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0).fit(digits.x_train,
                                                                                         digits.y_train)
    teacher = upload_teacher(client, to_onnx_bytes(gbdt, digits.x_train), "gbdt.onnx", [64])
    assert (teacher["output"], teacher["output_kind"], teacher["num_classes"]) == ("probabilities",
                                                                                   "probabilities", 10)
    buf = io.BytesIO()
    pcsv.write_csv(digits_table(digits), buf)
    ts = upload_set(client, "digits.csv", buf.getvalue(), label_column="digit")
    assert (ts["kind"], ts["num_samples"], ts["num_test"], ts["sample_shape"]) == ("table", 1437, 360, [64])
    job = distil(stack, client, [teacher["id"]], ts["id"])
    assert job["result"]["teacher"]["test_accuracy"] == pytest.approx(gbdt.score(digits.x_test, digits.y_test),
                                                                      abs=1e-6)
    assert_student_keeps_up(job)


def test_random_forest_with_exact_zeros_from_a_parquet_set(stack, client, digits, tmp_path):
    import pyarrow.parquet as pq
    from sklearn.ensemble import RandomForestClassifier

    names = np.array([f"digit {d}" for d in range(10)])  # classes by name: sorted as scikit-learn sorts them
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(digits.x_train, names[digits.y_train])
    assert (forest.predict_proba(digits.x_test) == 0).any()  # the exact zeros the service must survive
    teacher = upload_teacher(client, to_onnx_bytes(forest, digits.x_train), "forest.onnx", [64])
    assert teacher["output_kind"] == "probabilities"
    pq.write_table(digits_table(digits, labels=lambda y: names[y]), tmp_path / "digits.parquet")
    ts = upload_set(client, "digits.parquet", (tmp_path / "digits.parquet").read_bytes(), label_column="digit")
    assert ts["class_names"] == list(names) and ts["num_test"] == 360
    job = distil(stack, client, [teacher["id"]], ts["id"])
    assert_student_keeps_up(job)


def test_an_mlp_classifier_selected_by_its_probabilities_output(stack, client, digits):
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged after 60 passes: it is a teacher well enough (> 0.9)
        mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=60, random_state=0).fit(digits.x_train,
                                                                                       digits.y_train)
    teacher = upload_teacher(client, to_onnx_bytes(mlp, digits.x_train), "mlp.onnx", [64], output="probabilities")
    assert (teacher["output"], teacher["output_kind"]) == ("probabilities", "probabilities")
    ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()
    assert_student_keeps_up(distil(stack, client, [teacher["id"]], ts["id"]))


class Softmaxed(nn.Module):
    """A "deploy-ready" export: the network's probabilities, not its logits."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=-1)


def test_a_net_ending_in_softmax_is_distilled_from_its_probabilities(stack, client, digits, teacher_file):
    net = torch.jit.load(str(teacher_file))
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Softmaxed(net).eval()), buf)
    teacher = upload_teacher(client, buf.getvalue(), "softmaxed.pt", [64])
    assert teacher["output_kind"] == "probabilities"  # detected: nothing was declared
    # Few labels and a high temperature: where treating probabilities as logits cost the most (issue 26)
    npz = io.BytesIO()
    np.savez(npz, x=digits.x_train[:200], y=digits.y_train[:200], x_test=digits.x_test, y_test=digits.y_test)
    ts = upload_set(client, "few.npz", npz.getvalue())
    hp = {"temperature": 4.0, "epochs": 20, "batch_size": 64, "learning_rate": 0.1}
    job = distil(stack, client, [teacher["id"]], ts["id"], hp=hp, baseline=True)
    result = job["result"]
    assert result["student"]["test_accuracy"] > result["baseline"]["test_accuracy"], result

    declared = upload_teacher(client, buf.getvalue(), "softmaxed.pt", [64], output_kind="logits")
    assert declared["output_kind"] == "logits"
    failed = distil(stack, client, [declared["id"]], ts["id"], hp=hp, ok=False)
    assert failed["status"] == "failed", failed
    assert declared["id"] in failed["error"] and "output_kind=probabilities" in failed["error"], failed["error"]


class IdsClassifier(nn.Module):
    """Category ids [batch, 6] → embeddings averaged → MLP → 3 classes."""

    def __init__(self, ids: int):
        super().__init__()
        self.embedding = nn.Embedding(ids, 16)
        self.head = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(x).mean(1))


def test_an_embedding_bag_teacher_over_category_ids(stack, client, tmp_path):
    import onnxruntime as ort
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.RandomState(0)
    features, values = 6, 8
    ids = features * values
    x = np.arange(features) * values + rng.randint(0, values, (1500, features))  # column j holds ids j*8..j*8+7
    y = (rng.randn(ids, 3)[x].sum(1)).argmax(1)
    torch.manual_seed(0)
    net = IdsClassifier(ids)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x[:1200]), torch.from_numpy(y[:1200])
    for _ in range(15):
        for idx in torch.randperm(1200).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            opt.step()
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(net.eval()), buf)
    teacher = upload_teacher(client, buf.getvalue(), "ids.pt", [features], input_dtype="int64")
    assert (teacher["input_dtype"], teacher["output_kind"]) == ("int64", "logits")

    table = pa.table({**{f"c{j}": x[:, j] for j in range(features)}, "label": y,
                      "split": ["train"] * 1200 + ["test"] * 300})
    csv = io.BytesIO()
    pcsv.write_csv(table, csv)
    ts = upload_set(client, "ids.csv", csv.getvalue())
    assert (ts["dtype"], ts["num_test"]) == ("int64", 300)
    student = {"arch": "embedding_bag", "num_embeddings": ids, "embedding_dim": 16, "hidden_sizes": [32]}
    job = distil(stack, client, [teacher["id"]], ts["id"], student=student,
                 hp={"epochs": 20, "batch_size": 64, "optimizer": "adam", "learning_rate": 0.01})
    assert_student_keeps_up(job)
    # the exported student takes the same ids and returns probabilities at T = 1
    r = client.get(f"/v1/jobs/{job['id']}/student", params={"format": "onnx"})
    assert r.status_code == 200
    (tmp_path / "s.onnx").write_bytes(r.content)
    session = ort.InferenceSession(str(tmp_path / "s.onnx"))
    assert session.get_inputs()[0].type == "tensor(int64)"
    probs = session.run(None, {session.get_inputs()[0].name: x[1200:].astype(np.int64)})[0]
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert (probs.argmax(1) == y[1200:]).mean() == pytest.approx(job["result"]["student"]["test_accuracy"],
                                                                 abs=1e-6)


def test_an_ensemble_mixes_an_onnx_forest_and_a_torchscript_net_on_postgres(tmp_path_factory, digits, teacher_file,
                                                                               tmp_path):
    """The one case on the production column (PostgreSQL, Redis): a teacher list of two kinds, a Parquet set."""
    import pyarrow.parquet as pq
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(digits.x_train, digits.y_train)
    pq.write_table(digits_table(digits), tmp_path / "digits.parquet")
    with running_stack("postgres_redis", tmp_path_factory.mktemp("classifiers_pg")) as pg, pg.client() as client:
        members = [upload_teacher(client, to_onnx_bytes(forest, digits.x_train), "forest.onnx", [64]),
                   upload_teacher(client, teacher_file.read_bytes(), "net.pt", [64])]
        assert [t["output_kind"] for t in members] == ["probabilities", "logits"]
        ts = upload_set(client, "digits.parquet", (tmp_path / "digits.parquet").read_bytes(), label_column="digit")
        job = distil(pg, client, [t["id"] for t in members], ts["id"], hp={**HP, "ensemble": "geometric"})
        assert_student_keeps_up(job)
