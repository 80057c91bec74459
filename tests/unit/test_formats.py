"""Teacher formats in, student formats out, each checked in its own runtime."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from models.export import EXPORT_FORMATS, PlainSoftmax, export, load_safetensors_student
from models.specs import TORCHVISION_ARCHS
from models.teachers import FORMATS, TeacherInvalid, load_teacher, probe_teacher
from models.zoo import build_student

SPEC = {"arch": "mlp", "hidden_sizes": [16], "activation": "gelu"}


def load_in_runtime(fmt: str, path: Path):
    """The downloaded file, opened the way a deployment would, as a function numpy → numpy."""
    if fmt == "torchscript":
        model = torch.jit.load(str(path))
        return lambda x: model(torch.from_numpy(x)).detach().numpy()
    if fmt == "exported_program":
        model = torch.export.load(str(path)).module()
        return lambda x: model(torch.from_numpy(x)).detach().numpy()
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda x: session.run(None, {session.get_inputs()[0].name: x})[0]
    model = load_safetensors_student(path)
    return lambda x: model(torch.from_numpy(x)).detach().numpy()


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    net = build_student(SPEC, [4, 4], 5).eval()
    return PlainSoftmax(net, 5, torch.tensor([0.0, 0.0, 1.5, 0.0, 0.0])).eval()


# onnx_int8 is made from the onnx file with calibration samples (models/int8.py; tests/unit/test_int8.py);
# huggingface is a transformer text student's, with its teacher's tokenizer (tests/unit/test_text_exports.py)
@pytest.mark.parametrize("fmt", [f for f in EXPORT_FORMATS if f not in ("onnx_int8", "huggingface")])
def test_each_export_format_matches_the_trained_student_in_its_runtime(fmt, trained, tmp_path):
    path = tmp_path / f"student.{EXPORT_FORMATS[fmt]}"
    export(fmt, trained, [4, 4], path, student_spec=SPEC)
    run = load_in_runtime(fmt, path)
    for batch in (1, 7):  # the batch dimension is dynamic
        x = np.random.RandomState(batch).randn(batch, 4, 4).astype(np.float32)
        probs = run(x)
        with torch.no_grad():
            expected = trained(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(probs, expected, atol=1e-5, rtol=0)
        np.testing.assert_allclose(probs.sum(1), np.ones(batch), atol=1e-5)


def test_onnx_export_pins_its_opset(trained, tmp_path):
    import onnx

    from models.export import ONNX_OPSET

    export("onnx", trained, [4, 4], tmp_path / "s.onnx", student_spec=SPEC)
    model = onnx.load(str(tmp_path / "s.onnx"))
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} == {ONNX_OPSET}


def teacher_files(tmp_path: Path) -> tuple[torch.nn.Module, dict[str, dict]]:
    """One network saved in every teacher format, with the upload fields each needs."""
    from safetensors.torch import save_file

    torch.manual_seed(1)
    spec = {"arch": "mlp", "hidden_sizes": [12]}
    net = build_student(spec, [6], 4).eval()
    x = torch.zeros(2, 6)
    torch.jit.save(torch.jit.script(net), str(tmp_path / "t.pt"))
    dyn = ({0: torch.export.Dim("batch", min=1, max=4096)},)
    torch.export.save(torch.export.export(net, (x,), dynamic_shapes=dyn), str(tmp_path / "t.pt2"))
    torch.onnx.export(net, (x,), str(tmp_path / "t.onnx"), dynamic_shapes=dyn, dynamo=True,
                      external_data=False)
    save_file(net.state_dict(), str(tmp_path / "t.safetensors"))
    return net, {
        "torchscript": {"path": tmp_path / "t.pt"},
        "exported_program": {"path": tmp_path / "t.pt2"},
        "onnx": {"path": tmp_path / "t.onnx"},
        "safetensors": {"path": tmp_path / "t.safetensors", "arch": "mlp",
                        "arch_config": {"hidden_sizes": [12], "num_classes": 4}},
    }


@pytest.fixture(scope="module")
def teachers(tmp_path_factory):
    return teacher_files(tmp_path_factory.mktemp("teachers"))


# a huggingface teacher is a folder loaded in the sandbox only (tests/unit/test_text_api.py)
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "huggingface"])
def test_each_teacher_format_loads_and_gives_the_same_logits(fmt, teachers):
    net, files = teachers
    info = files[fmt]
    model = load_teacher(info["path"], fmt, arch=info.get("arch"), arch_config=info.get("arch_config"),
                         input_shape=[6])
    assert probe_teacher(model, [6]) == 4
    x = torch.randn(5, 6)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("declared, actual", [("torchscript", "onnx"), ("onnx", "torchscript"),
                                              ("exported_program", "torchscript"), ("safetensors", "onnx")])
def test_a_file_that_does_not_match_its_declared_format_is_refused(declared, actual, teachers):
    _, files = teachers
    with pytest.raises(TeacherInvalid, match="not a|does not match"):
        load_teacher(files[actual]["path"], declared, arch="mlp", arch_config={"num_classes": 4}, input_shape=[6])


def test_torchvision_state_dict_loads_by_its_canonical_keys(tmp_path):
    import torchvision
    from safetensors.torch import save_file

    reference = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    save_file(reference.state_dict(), str(tmp_path / "r18.safetensors"))
    model = load_teacher(tmp_path / "r18.safetensors", "safetensors", arch="resnet18",
                         arch_config={"num_classes": 10}, input_shape=[3, 32, 32])
    assert probe_teacher(model, [3, 32, 32]) == 10
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))


def test_state_dict_for_another_architecture_is_refused_with_the_key_mismatch(teachers):
    _, files = teachers
    with pytest.raises(TeacherInvalid, match="does not fit arch 'mlp'.*size mismatch|Missing key"):
        load_teacher(files["safetensors"]["path"], "safetensors", arch="mlp",
                     arch_config={"hidden_sizes": [99], "num_classes": 4}, input_shape=[6])


def test_unknown_arch_is_refused(teachers):
    _, files = teachers
    with pytest.raises(TeacherInvalid, match="unknown arch 'gpt'"):
        load_teacher(files["safetensors"]["path"], "safetensors", arch="gpt", arch_config={}, input_shape=[6])


@pytest.mark.parametrize("arch", TORCHVISION_ARCHS)
@pytest.mark.parametrize("channels", [1, 3])
def test_torchvision_students_adapt_channels_and_classes(arch, channels):
    net = build_student({"arch": arch}, [channels, 32, 32], 7).eval()
    with torch.no_grad():
        assert net(torch.zeros(2, channels, 32, 32)).shape == (2, 7)


class Marker:
    """Unpickling this creates a file: the proof that something ran full pickle on an upload."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def pickle_payloads(tmp_path: Path, marker: Path) -> list[Path]:
    zipped = tmp_path / "evil.pt"
    torch.save({"weights": torch.zeros(2), "payload": Marker(marker)}, str(zipped))
    legacy = tmp_path / "evil_legacy.pt"
    legacy.write_bytes(pickle.dumps(Marker(marker)))
    return [zipped, legacy]


@pytest.mark.parametrize("fmt", FORMATS)
def test_pickle_payload_is_never_unpickled(fmt, tmp_path):
    marker = tmp_path / "pwned"
    for payload in pickle_payloads(tmp_path, marker):
        with pytest.raises(TeacherInvalid):
            load_teacher(payload, fmt, arch="mlp", arch_config={"num_classes": 2}, input_shape=[2])
    assert not marker.exists()


def test_onnx_with_external_weights_gets_advice(tmp_path):
    net = build_student({"arch": "mlp", "hidden_sizes": [512]}, [512], 4).eval()
    torch.onnx.export(net, (torch.zeros(2, 512),), str(tmp_path / "big.onnx"), dynamo=True, external_data=True)
    (tmp_path / "upload").mkdir()
    (tmp_path / "big.onnx").rename(tmp_path / "upload" / "big.onnx")  # the upload arrives without its data file
    with pytest.raises(TeacherInvalid, match="external_data=False"):
        load_teacher(tmp_path / "upload" / "big.onnx", "onnx")
