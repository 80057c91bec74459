"""Issue 25's findings 2, 4, 8, 9 and 15 through the real API: uploads that decode to far more than their size
are bounded by what they decode to and read in a child with limits of its own (the API's resident memory is
sampled while each is processed), the static model check is bounded and CPU-limited, TorchScript code is
checked before it is loaded and a model's own error text never comes back, upload checks are bounded per
host and tenant, and sparse ONNX tensors are checked."""

import os
import threading
import time
from pathlib import Path

import pytest

from core.config import get_settings
from models.bounded import ParseLimitExceeded, ParseLimits, run_bounded
from models.image_limits import check_pixels, resized
from models.inspection import ModelRefused
from models.preprocessing import Preprocessing
from models.sandbox.jail import sandbox_problem
from models.transfer_sets import TransferSetTooLarge, load_npz
from tests import hostile_files as hostile
from tests import hostile_models
from tests.conftest import clear_caches
from tests.unit.test_api import assert_problem, counts, stored_files, upload_teacher

MiB = 1024**2
# What the API may grow by while it handles one of these uploads: the files are a few MB, and everything
# they decode to lives in a child. The issue measured 252 MB to 1,362 MB for the same uploads.
GROWTH = 64 * MiB
needs_sandbox = pytest.mark.skipif(sandbox_problem() is not None, reason="needs bubblewrap")


def post_set(client, data: bytes, filename: str, **fields):
    return client.post("/v1/transfer-sets", files={"file": (filename, data)}, data={"name": "hostile", **fields})


def measured(request):
    """The response and how much the API process's resident memory grew while it was made."""
    with hostile.RssSampler() as rss:
        r = request()
    return r, rss.growth


@pytest.fixture
def warm(client):
    """One small upload of each kind first, so that lazy imports are not counted as growth."""
    assert post_set(client, hostile.image_zip({"a/1.png": hostile.png(2, 2), "b/2.png": hostile.png(2, 2)}),
                    "w.zip").status_code == 201
    return client


# -- finding 2: decoded sizes ------------------------------------------------------------------------------

def test_an_npz_that_inflates_is_read_in_a_child_and_counted_after_conversion(warm, tmp_path):
    # Integer inputs are kept as int64 (ids must stay exact for a teacher that embeds them): 16 MiB of uint8
    # decoded is 128 MiB once converted, and the limit counts the converted bytes.
    data = hostile.npz_uint8(16)
    r, growth = measured(lambda: post_set(warm, data, "x.npz"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["num_samples"] + body["num_test"] == 16 * 1024 and body["sample_shape"] == [1024]
    assert body["num_classes"] == 2 and body["num_test"] == round(16 * 1024 * 0.2)
    assert body["dtype"] == "int64"
    assert growth < GROWTH, growth

    path = tmp_path / "x.npz"
    path.write_bytes(data)
    raw = 16 * MiB + 16 * 1024 * 8  # x as uint8 and y as int64
    with pytest.raises(TransferSetTooLarge, match="as int64"):
        load_npz(path, max_bytes=raw + MiB)  # would fit as decoded, not once converted
    assert len(load_npz(path, max_bytes=raw + 8 * 16 * MiB).x_train) == body["num_samples"]


def test_a_resize_target_is_bounded_before_it_is_decoded(warm):
    archive = hostile.image_zip({"a/1.png": hostile.png(1, 1, "RGB"), "b/2.png": hostile.png(1, 1, "RGB")})
    assert len(archive) < 1000
    r, growth = measured(lambda: post_set(warm, archive, "r.zip", preprocessing='{"resize": [4000, 4000]}'))
    assert_problem(r, 413, "[3, 4000, 4000]", "DISTILLERY_MAX_INPUT_ELEMENTS")
    assert growth < GROWTH, growth
    r = post_set(warm, archive, "r.zip", preprocessing='{"resize": [5000, 5000]}')
    assert_problem(r, 413, "preprocessing.resize", "5000x5000", "DISTILLERY_IMAGE_MAX_PIXELS")
    assert counts()["transfer_sets"] == 1 and len(stored_files()) == 1  # the warm-up's only


def test_a_torchvision_set_is_bounded_by_its_resize_before_a_sample_is_read(client):
    body = {"name": "big", "kind": "torchvision", "dataset": "MNIST", "root": "mnist",
            "preprocessing": {"resize": [5000, 5000]}}
    assert_problem(client.post("/v1/transfer-sets", json=body), 413, "5000x5000", "DISTILLERY_IMAGE_MAX_PIXELS")


def test_images_are_bounded_by_their_pixels_not_their_bytes(warm):
    big = hostile.png(6000, 6000)
    archive = hostile.image_zip({"a/1.png": big, "b/2.png": big})
    assert len(archive) < 300_000
    r, growth = measured(lambda: post_set(warm, archive, "p.zip"))
    assert_problem(r, 413, "6000x6000 = 36000000 pixels", "DISTILLERY_IMAGE_MAX_PIXELS")
    assert growth < GROWTH, growth


def test_a_set_is_bounded_by_its_pixels_and_each_image_by_its_resized_size(tmp_path):
    files = []
    for i, (w, h) in enumerate([(8, 8), (8, 8), (1, 2)]):
        files.append(tmp_path / f"{i}.png")
        files[-1].write_bytes(hostile.png(w, h))
    assert check_pixels(files[:2], Preprocessing()) == 128
    with pytest.raises(TransferSetTooLarge, match="DISTILLERY_IMAGE_MAX_SET_PIXELS"):
        check_pixels(files[:2], Preprocessing(), max_set_pixels=100)
    # An int resizes the shorter side: a 1x2 image resized to 3000 is 3000x6000.
    assert resized(1, 2, 3000) == (3000, 6000) and resized(40, 20, 10) == (20, 10)
    with pytest.raises(TransferSetTooLarge, match="3000x6000"):
        check_pixels(files[2:], Preprocessing(resize=3000), max_image_pixels=4096**2)
    assert check_pixels(files[2:], Preprocessing(resize=3000), max_image_pixels=18 * 10**6) == 18 * 10**6


@needs_sandbox
def test_pt2_configs_are_bounded_and_sample_inputs_never_torch_loaded_here(warm, tmp_path, monkeypatch):
    import torch

    loads = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a) or (_ for _ in ()).throw(
        AssertionError("torch.load in the API process")))
    path = hostile.pt2_with_huge_weights_config(tmp_path)
    assert path.stat().st_size < 64 * 1024
    r, growth = measured(lambda: upload_teacher(warm, path, format="exported_program", input_shape="[4]"))
    assert_problem(r, 422, "model_weights_config.json", "at most 4194304", field="file")
    assert growth < GROWTH, growth

    path = hostile.pt2_with_deflated_sample_inputs(tmp_path)  # storages of 64 MiB, deflated
    r, growth = measured(lambda: upload_teacher(warm, path, format="exported_program", input_shape="[4]"))
    assert r.status_code in (201, 422), r.text  # the sandbox decides; the API reads only the pickle's opcodes
    assert growth < GROWTH, growth
    good = hostile_models.exported_program(tmp_path / "good.pt2")
    assert upload_teacher(warm, good, format="exported_program", input_shape="[4]").status_code == 201
    assert loads == []


# -- finding 4: the static check is bounded and CPU-limited -------------------------------------------------

def test_a_pickle_bomb_is_refused_by_its_bounds(warm, tmp_path):
    bomb = hostile.pickle_bomb(tmp_path)  # six deflated 64 MiB pickles in 0.4 MB
    assert bomb.stat().st_size < 600_000
    r, growth = measured(lambda: upload_teacher(warm, bomb, input_shape="[4]"))
    assert_problem(r, 422, "expands from", "more than 200 times", field="file")
    assert growth < GROWTH, growth
    stored = hostile.pickle_bomb(tmp_path, members=2, mib=4, compress=False)  # 8 M opcodes, stored as they are
    r, growth = measured(lambda: upload_teacher(warm, stored, input_shape="[4]"))
    assert_problem(r, 422, "more than 1000000 opcodes", field="file")
    assert growth < GROWTH, growth


def test_the_static_check_runs_under_a_cpu_limit(tmp_path):
    stored = hostile.pickle_bomb(tmp_path, members=1, mib=64, compress=False)
    unbounded = {"max_opcodes": 10**12, "max_bytes": 10**12}  # only the CPU limit is left to stop it
    started = time.process_time()
    with pytest.raises(ParseLimitExceeded, match="1 s of CPU time"):
        run_bounded("check_model", {"path": str(stored), "fmt": "torchscript", "budget": unbounded},
                    ParseLimits(cpu_seconds=1, wall_seconds=600))
    assert time.process_time() - started < 1  # none of it ran in this process


# -- finding 8: TorchScript code is checked before it is loaded, and a model's text never comes back ---------

LEAK = Path(__file__).resolve().parents[2] / "models" / "__init__.py"  # what the sandbox holds at CODE_ROOT


def _leaked_text() -> str:
    return str(list(LEAK.read_bytes()[:8]))


@needs_sandbox
def test_setstate_is_checked_before_load_and_its_text_is_never_echoed(client, tmp_path, monkeypatch):
    path = hostile_models.torchscript(hostile.reads_at_load("/opt/distillery/models/__init__.py"), tmp_path / "s.pt")
    r = upload_teacher(client, path, input_shape="[4]")
    body = assert_problem(r, 422, "aten::from_file", "__setstate__", field="file")
    assert _leaked_text() not in r.text and "leaked" not in body["detail"]

    monkeypatch.setenv("DISTILLERY_UNSAFE_SKIP_MODEL_CHECKS", "true")  # the sandbox loads it, __setstate__ runs
    clear_caches()
    r = upload_teacher(client, path, input_shape="[4]")
    body = assert_problem(r, 422, "RuntimeError", "not shown", field="file")
    assert _leaked_text() not in r.text and "leaked" not in body["detail"]
    assert counts()["teachers"] == 0 and stored_files() == []


def test_a_failure_is_described_by_its_kind_and_operator_only():
    from models.failure_text import describe_failure

    class Custom(Exception):
        pass

    assert describe_failure(Custom("secret bytes [1, 2, 3]")) == "Custom (the model's own message is not shown)"
    traced = RuntimeError("The following operation failed in the TorchScript interpreter.\n"
                          "    data = torch.from_file(p, False, 4, dtype=0)\n"
                          "           ~~~~~~~~~~~~~~~ <--- HERE\nRuntimeError: file </etc/x> holds SECRET")
    assert describe_failure(traced) == "RuntimeError in aten::from_file (the model's own message is not shown)"
    shapes = RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x192 and 64x10)")
    assert describe_failure(shapes) == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x192 and 64x10)"


# -- finding 9: concurrent checks per host and tenant --------------------------------------------------------

def _check_processes() -> list[int]:
    """This process's descendants that are sandboxes or bounded readers."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"models.sandbox.child" in cmdline or b"models.bounded_child" in cmdline:
            found.append(int(proc.name))
    return found


def test_check_slots_hold_per_tenant_and_per_host_and_queue_briefly(embedded_env, monkeypatch):
    from app.check_slots import check_slot
    from app.problems import Problem

    monkeypatch.setenv("DISTILLERY_SANDBOX_MAX_CONCURRENT", "2")
    monkeypatch.setenv("DISTILLERY_SANDBOX_MAX_PER_TENANT", "1")
    monkeypatch.setenv("DISTILLERY_SANDBOX_QUEUE_SECONDS", "0")
    clear_caches()
    settings = get_settings()
    with check_slot(settings, "alpha"):
        with pytest.raises(Problem) as refused, check_slot(settings, "alpha"):
            pass
        assert refused.value.status == 429 and refused.value.headers["Retry-After"]
        assert "DISTILLERY_SANDBOX_MAX_PER_TENANT" in refused.value.detail
        with check_slot(settings, "beta"):  # another tenant's slot, the host's second
            with pytest.raises(Problem) as full, check_slot(settings, "gamma"):
                pass
            assert "DISTILLERY_SANDBOX_MAX_CONCURRENT" in full.value.detail
    monkeypatch.setenv("DISTILLERY_SANDBOX_QUEUE_SECONDS", "30")
    clear_caches()
    settings, entered = get_settings(), []
    with check_slot(settings, "alpha"):
        waiter = threading.Thread(target=lambda: check_slot(settings, "alpha").__enter__() or entered.append(1))
        waiter.start()
        time.sleep(0.3)
        assert entered == []  # queued behind the first
    waiter.join(timeout=30)
    assert entered == [1]


@needs_sandbox
def test_uploads_past_the_host_bound_get_429_and_sandboxes_stay_bounded(client, monkeypatch, tmp_path):
    monkeypatch.setenv("DISTILLERY_SANDBOX_MAX_CONCURRENT", "1")
    monkeypatch.setenv("DISTILLERY_SANDBOX_QUEUE_SECONDS", "0")
    monkeypatch.setenv("DISTILLERY_PROBE_SECONDS", "4")
    clear_caches()
    path = hostile_models.torchscript(hostile_models.SpinsForever(), tmp_path / "spins.pt")
    answers, most = [], [0]
    first = threading.Thread(target=lambda: answers.append(upload_teacher(client, path, input_shape="[4]")))
    first.start()
    deadline = time.monotonic() + 120
    while not _check_processes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _check_processes(), "the first upload never started its check"
    second = upload_teacher(client, path, input_shape="[4]")
    while first.is_alive():
        most[0] = max(most[0], len([p for p in _check_processes() if _is_sandbox_root(p)]))
        time.sleep(0.02)
    assert_problem(second, 429, "DISTILLERY_SANDBOX_MAX_CONCURRENT")
    assert second.headers["Retry-After"] == "5"
    assert_problem(answers[0], 422, "did not answer within 4 s")
    assert most[0] <= 1


def _is_sandbox_root(pid: int) -> bool:
    """One sandbox shows as several processes (bwrap, its child, the model's Python): count the outermost."""
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return False
    return parent == os.getpid()


# -- finding 15: sparse ONNX tensors ------------------------------------------------------------------------

def test_sparse_onnx_tensors_are_checked(client, tmp_path):
    from models.onnx_check import check_onnx

    for kind, words in (("attribute", ["sparse tensor attribute", "dense tensor"]),
                        ("huge", ["[1000000, 1000000]", "densifies", "67108864"])):
        path = tmp_path / f"{kind}.onnx"
        path.write_bytes(hostile.onnx_with_sparse(kind))
        assert_problem(upload_teacher(client, path, format="onnx", input_shape="[4]"), 422, *words, field="file")
    small = tmp_path / "small.onnx"
    small.write_bytes(hostile.onnx_with_sparse("small"))
    check_onnx(small)  # a sparse initializer that fits its shape passes
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(_sparse_with_index(99))  # index 99 of a 4x3 tensor
    with pytest.raises(ModelRefused, match="outside its shape"):
        check_onnx(bad)
    assert counts()["teachers"] == 0


def _sparse_with_index(index: int) -> bytes:
    import onnx

    model = onnx.load_from_string(hostile.onnx_with_sparse("small"))
    model.graph.sparse_initializer[0].indices.int64_data[1] = index
    return model.SerializeToString()
