"""The network side: zoo, export, teacher loading and transfer-set formats."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from models.export import PlainSoftmax, export_torchscript
from models.teachers import TeacherInvalid, load_teacher, probe_teacher
from models.transfer_sets import DIGITS_TEST_SIZE, TransferSetInvalid, load_builtin, load_npz
from models.zoo import build_student


def test_mlp_and_cnn_build_with_the_requested_shape():
    mlp = build_student({"arch": "mlp", "hidden_sizes": [16, 8], "dropout": 0.1, "activation": "gelu"}, [4, 4], 3)
    assert mlp(torch.zeros(5, 4, 4)).shape == (5, 3)
    cnn = build_student({"arch": "cnn", "channels": [8, 16]}, [3, 32, 32], 7)
    assert cnn(torch.zeros(2, 3, 32, 32)).shape == (2, 7)


def test_cnn_on_flat_inputs_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\[channels, height, width\]"):
        build_student({"arch": "cnn"}, [64], 10)


def test_unknown_arch_and_unknown_field_are_refused():
    with pytest.raises(ValidationError):
        build_student({"arch": "perceiver"}, [64], 10)  # "transformer" is a text student now (issue 27)
    with pytest.raises(ValidationError):
        build_student({"arch": "mlp", "hidden": [3]}, [64], 10)


def test_a_text_student_needs_a_text_teacher():
    with pytest.raises(ValueError, match="Hugging Face teacher"):
        build_student({"arch": "transformer", "layers": 1, "hidden_size": 16, "heads": 2}, [16], 3, "int64")
    with pytest.raises(ValueError, match="integer ids"):
        build_student({"arch": "bilstm"}, [16], 3, "float32")


def test_torchscript_export_has_plain_softmax_and_same_argmax(tmp_path):
    torch.manual_seed(0)
    student = build_student({"arch": "mlp", "hidden_sizes": [8]}, [64], 10).eval()
    path = tmp_path / "s.pt"
    export_torchscript(PlainSoftmax(student, 10), [64], path)
    loaded = torch.jit.load(str(path))
    x = torch.randn(32, 64)
    probs = loaded(x)
    torch.testing.assert_close(probs.sum(1), torch.ones(32), atol=1e-5, rtol=0)
    with torch.no_grad():
        expected = torch.softmax(student(x), 1)  # T = 1, no temperature left in
    torch.testing.assert_close(probs, expected, atol=1e-6, rtol=1e-5)


def test_export_applies_the_logit_bias(tmp_path):
    student = build_student({"arch": "mlp", "hidden_sizes": []}, [2], 3).eval()
    bias = torch.tensor([0.0, 0.0, 50.0])
    path = tmp_path / "s.pt"
    export_torchscript(PlainSoftmax(student, 3, bias), [2], path)
    assert (torch.jit.load(str(path))(torch.randn(4, 2)).argmax(1) == 2).all()


def test_teacher_loads_and_probe_counts_classes(teacher_file):
    assert probe_teacher(load_teacher(teacher_file, "torchscript"), [64]) == 10


def test_teacher_with_wrong_input_shape_names_the_underlying_error(teacher_file):
    with pytest.raises(TeacherInvalid, match=r"zero batch shaped \[2, 3\].*mat1 and mat2"):
        probe_teacher(load_teacher(teacher_file, "torchscript"), [3])


def test_not_a_model_is_refused(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"definitely not a model")
    with pytest.raises(TeacherInvalid, match="not a loadable torchscript model"):
        load_teacher(bad, "torchscript")


def test_teacher_that_returns_1d_is_refused(tmp_path):
    class Flat(torch.nn.Module):
        def forward(self, x):
            return x.sum(1)

    path = tmp_path / "flat.pt"
    torch.jit.save(torch.jit.script(Flat()), str(path))
    with pytest.raises(TeacherInvalid, match=r"\[batch, classes\]"):
        probe_teacher(load_teacher(path, "torchscript"), [4])


def test_digits_builtin_split_is_fixed_and_scaled():
    a, b = load_builtin("digits"), load_builtin("digits")
    assert len(a.x_test) == DIGITS_TEST_SIZE and len(a.x_train) == 1797 - DIGITS_TEST_SIZE
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1 and a.sample_shape == [64]
    assert a.num_classes == 10


def save_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_npz_with_test_split(tmp_path):
    p = save_npz(tmp_path / "a.npz", x=np.random.rand(20, 3, 2), y=np.arange(20) % 4,
                 x_test=np.random.rand(5, 3, 2), y_test=np.arange(5) % 5)
    d = load_npz(p)
    assert d.sample_shape == [3, 2] and d.num_test == 5 and d.num_classes == 5 and d.labelled


def test_npz_without_test_split_holds_out_a_fraction(tmp_path):
    d = load_npz(save_npz(tmp_path / "a.npz", x=np.random.rand(50, 4), y=np.arange(50) % 2))
    assert len(d.x_train) == 40 and d.num_test == 10


def test_unlabelled_npz(tmp_path):
    d = load_npz(save_npz(tmp_path / "a.npz", x=np.random.rand(10, 4)))
    assert not d.labelled and d.num_classes is None and d.num_test == 0


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"y": np.arange(3)}, "must hold an array 'x'"),
        ({"x": np.random.rand(4)}, r"shaped \[N, ...\]"),
        ({"x": np.random.rand(4, 2), "y": np.arange(3)}, r"shaped \[4\]"),
        ({"x": np.random.rand(4, 2), "y": np.random.rand(4)}, "integer class labels"),
        ({"x": np.random.rand(4, 2), "y": -np.arange(4)}, "negative labels"),
        ({"x": np.array([[np.nan, 1.0]])}, "NaN"),
        ({"x": np.random.rand(4, 2), "x_test": np.random.rand(2, 3)}, "'x_test' samples are shaped"),
        ({"x": np.random.rand(4, 2), "y_test": np.arange(2)}, "without 'x_test'"),
    ],
)
def test_bad_npz_is_refused_with_what_to_fix(tmp_path, arrays, message):
    with pytest.raises(TransferSetInvalid, match=message):
        load_npz(save_npz(tmp_path / "a.npz", **arrays))


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    p = tmp_path / "a.npz"
    np.savez(p, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(TransferSetInvalid, match="object arrays"):
        load_npz(p)


def test_garbage_is_not_an_npz(tmp_path):
    p = tmp_path / "a.npz"
    p.write_bytes(b"garbage")
    with pytest.raises(TransferSetInvalid, match="not a readable .npz"):
        load_npz(p)
