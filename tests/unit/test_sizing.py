"""Network sizes from the spec agree with what the zoo builds, and oversized students are refused at
submission in milliseconds, before anything is built."""

import time
import tracemalloc

import pytest
import torch

from core.config import get_settings
from models.sizing import NetworkTooLarge, check_network_size, network_size
from models.zoo import build_student
from tests.unit.test_api import assert_problem, counts, job_body


def measured(spec, shape, classes) -> tuple[int, int]:
    """(parameters, output elements of every leaf module) of the built network on one sample."""
    model = build_student(spec, shape, classes).train()
    outputs = [0]
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.__setitem__(0, outputs[0] + o.numel()))
             for m in model.modules() if not list(m.children())]
    model(torch.zeros(2, *shape))
    for h in hooks:
        h.remove()
    return sum(p.numel() for p in model.parameters()), outputs[0] // 2


@pytest.mark.parametrize("spec, shape, classes", [
    ({"arch": "mlp", "hidden_sizes": [32, 16]}, [64], 10),
    ({"arch": "mlp", "hidden_sizes": [7], "dropout": 0.5}, [3, 5, 5], 4),
    ({"arch": "mlp", "hidden_sizes": []}, [20], 3),
    ({"arch": "cnn", "channels": [8, 16]}, [1, 8, 8], 10),
    ({"arch": "cnn", "channels": [4, 4, 4], "kernel_size": 4, "dropout": 0.1}, [3, 9, 7], 5),
    ({"arch": "cnn", "channels": [6], "kernel_size": 5}, [2, 3, 3], 2),
])
def test_mlp_and_cnn_sizes_match_the_built_network(spec, shape, classes):
    size = network_size(spec, shape, classes)
    parameters, outputs = measured(spec, shape, classes)
    assert size.parameters == parameters
    # The estimate counts the input as well as every layer's output (an MLP's Flatten outputs its input).
    assert size.activation_elements == outputs + (0 if spec["arch"] == "mlp" else int(torch.Size(shape).numel()))


@pytest.mark.parametrize("arch", ["resnet18", "mobilenet_v3_small"])
@pytest.mark.parametrize("shape, classes", [([1, 28, 28], 7), ([3, 40, 24], 10)])
def test_torchvision_sizes_match_the_built_network(arch, shape, classes):
    size = network_size({"arch": arch}, shape, classes)
    parameters, outputs = measured({"arch": arch}, shape, classes)
    assert size.parameters == parameters
    assert 0.75 * outputs <= size.activation_elements - shape[0] * shape[1] * shape[2] <= 1.25 * outputs


@pytest.mark.parametrize("spec, field", [
    ({"arch": "mlp", "hidden_sizes": [32768, 32768]}, "student.hidden_sizes"),
    ({"arch": "mlp", "hidden_sizes": [65536] * 16}, "student.hidden_sizes"),
    ({"arch": "cnn", "channels": [4096] * 8, "kernel_size": 11}, "student.channels"),
])
def test_huge_specs_are_refused_in_milliseconds_with_no_memory(spec, field):
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(NetworkTooLarge) as caught:
        check_network_size(spec, [3, 32, 32], 10)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert caught.value.field == field and "DISTILLERY_MAX_STUDENT_PARAMETERS" in str(caught.value)
    assert elapsed < 0.05 and peak < 1024**2


def test_activations_are_bounded_too():
    with pytest.raises(NetworkTooLarge, match="DISTILLERY_MAX_STUDENT_ACTIVATION_BYTES") as caught:
        check_network_size({"arch": "cnn", "channels": [64]}, [3, 2048, 2048], 10)
    assert caught.value.field == "student.channels"


def test_classes_and_input_elements_are_bounded():
    class Limits:
        max_num_classes = 100
        max_input_elements = 1000

    with pytest.raises(NetworkTooLarge, match="DISTILLERY_MAX_NUM_CLASSES") as caught:
        check_network_size({"arch": "mlp"}, [10], 101, Limits())
    assert caught.value.field == "num_classes"
    with pytest.raises(NetworkTooLarge, match="DISTILLERY_MAX_INPUT_ELEMENTS") as caught:
        check_network_size({"arch": "mlp"}, [10, 101], 10, Limits())
    assert caught.value.field == "input_shape"
    check_network_size({"arch": "mlp"}, [10, 100], 100, Limits())


def test_an_arch_that_cannot_take_the_input_is_a_plain_value_error():
    with pytest.raises(ValueError, match=r"\[channels, height, width\]") as caught:
        check_network_size({"arch": "cnn"}, [64], 10)
    assert not isinstance(caught.value, NetworkTooLarge)


# Through the API: a 422 naming the field, and no job.

@pytest.fixture
def teacher_and_set(client, teacher_file):
    from tests.unit.test_api import upload_teacher

    teacher = upload_teacher(client, teacher_file).json()["id"]
    digits = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    return teacher, digits


@pytest.mark.parametrize("hidden", [[32768, 32768], [65536] * 16])
def test_a_huge_student_is_422_at_submission(client, teacher_and_set, hidden):
    start = time.perf_counter()
    r = client.post("/v1/jobs", json=job_body(*teacher_and_set, student={"arch": "mlp", "hidden_sizes": hidden}))
    assert time.perf_counter() - start < 2
    assert_problem(r, 422, "parameters", "DISTILLERY_MAX_STUDENT_PARAMETERS", field="student.hidden_sizes")
    assert counts()["jobs"] == 0


def test_the_limits_are_settings(client, teacher_and_set, monkeypatch):
    body = job_body(*teacher_and_set, student={"arch": "mlp", "hidden_sizes": [64]})
    monkeypatch.setenv("DISTILLERY_MAX_STUDENT_PARAMETERS", "1000")
    get_settings.cache_clear()
    assert_problem(client.post("/v1/jobs", json=body), 422, "4,810 parameters", "1,000",
                   field="student.hidden_sizes")
    monkeypatch.setenv("DISTILLERY_MAX_STUDENT_PARAMETERS", "100000")
    monkeypatch.setenv("DISTILLERY_MAX_NUM_CLASSES", "5")
    get_settings.cache_clear()
    assert_problem(client.post("/v1/jobs", json=body), 422, "10 classes", "DISTILLERY_MAX_NUM_CLASSES",
                   field="teacher_ids.0")
    monkeypatch.setenv("DISTILLERY_MAX_NUM_CLASSES", "10")
    get_settings.cache_clear()
    assert client.post("/v1/jobs", json=body).status_code == 202
