"""The deployment report's measuring parts for text networks: token-id inputs (the same for every network, never
the pad id), a two-input ONNX file timed on (input_ids, attention_mask), the transformer student's real export
timed beside the student in torch, and a Hugging Face teacher timed inside its sandbox."""

import json
import os

import numpy as np
import pytest
import torch

from models import deployment
from models.sandbox.jail import SandboxPolicy, sandbox_problem

os.environ.setdefault("HF_HUB_OFFLINE", "1")
FIGURES = ("latency_ms_p50", "latency_ms_p90", "samples_per_second")
TIMING = deployment.Timing(warmup=2, latency_calls=10, throughput_calls=5)


def test_token_inputs_are_ids_of_the_vocabulary_but_the_pad_one_and_an_all_ones_mask():
    inputs = deployment.token_inputs(16, 7, 3, mask="attention_mask")
    assert [i.name for i in inputs] == ["input_ids", "attention_mask"]
    ids, mask = deployment.sample_inputs(inputs, 64)
    assert ids.dtype == mask.dtype == np.int64 and ids.shape == mask.shape == (64, 16)
    assert set(np.unique(ids)) == {0, 1, 2, 4, 5, 6} and (mask == 1).all()
    # every network of a job is timed on the same ids, the teacher (one input) as the student (two)
    np.testing.assert_array_equal(ids, deployment.sample_inputs(deployment.token_inputs(16, 7, 3), 64)[0])
    # the sandbox's child reads the inputs back from JSON, checked
    assert deployment.inputs_from_wire(deployment.inputs_to_wire(inputs)) == inputs
    with pytest.raises(ValueError):
        deployment.inputs_from_wire([{**deployment.inputs_to_wire(inputs)[0], "shape": [1 << 23]}])


def _two_input_file(path):
    """An ONNX file of two int64 inputs returning input_ids * attention_mask: what it returns shows which array
    reached which input."""
    import onnx
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
              for n in ("input_ids", "attention_mask")]
    out = helper.make_tensor_value_info("out", TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph([helper.make_node("Mul", ["input_ids", "attention_mask"], ["out"])], "g", inputs, [out])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_two_input_onnx_file_is_timed_on_ids_and_mask(tmp_path):
    path = _two_input_file(tmp_path / "two.onnx")
    inputs = deployment.token_inputs(12, 50, 0, mask="attention_mask")
    figures = deployment.measure_onnx(path, inputs, 1, TIMING)
    assert figures["runtime"].startswith("onnxruntime ") and figures["threads"] == 1
    assert all(figures[k] > 0 for k in FIGURES) and (figures["latency_calls"], figures["throughput_calls"]) == (10, 5)
    call = deployment.onnx_call(deployment.onnx_session(path, 1), 2)
    ids, mask = deployment.sample_inputs(inputs, 64)
    np.testing.assert_array_equal(call(ids, mask)[0], ids)  # the ids went to input_ids, the ones to the mask
    with pytest.raises(ValueError, match="takes 2 input"):
        deployment.measure_onnx(path, deployment.token_inputs(12, 50, 0), 1, TIMING)


def test_the_transformer_students_export_is_timed_as_the_report_times_it(tmp_path):
    from models.export import PlainSoftmax
    from models.text.exports import ONNX_INPUTS, export_onnx
    from models.text.students import TextTransformerSpec, build_text_student

    torch.manual_seed(0)
    spec = TextTransformerSpec(arch="transformer", layers=1, hidden_size=16, heads=2, intermediate_size=32)
    student = build_text_student(spec, vocab_size=40, num_labels=3, pad_token_id=0, max_positions=24).eval()
    path = export_onnx(student, tmp_path / "student.onnx", pad_token_id=0)
    import onnx

    # the exporter's per-node debug annotations are dropped: the file measured and downloaded is the network
    assert not any(node.metadata_props for node in onnx.load(str(path)).graph.node)
    onnx_figures = deployment.measure_onnx(path, deployment.token_inputs(16, 40, 0, mask=ONNX_INPUTS[1]), 1, TIMING)
    torch_figures = deployment.measure_torch(PlainSoftmax(student, 3, input_dtype="int64"),
                                             deployment.token_inputs(16, 40, 0), 1, TIMING)
    for figures in (onnx_figures, torch_figures):
        assert all(figures[k] > 0 for k in FIGURES)
    assert torch_figures["runtime"].startswith("torch ")


@pytest.mark.skipif(sandbox_problem() is not None, reason="needs bubblewrap")
def test_a_hugging_face_teacher_is_timed_on_token_ids_inside_its_sandbox(tmp_path):
    from models.sandbox.remote import SandboxedTeacher
    from models.text.exports import zip_folder
    from tests.text_models import save_teacher_folder

    folder = save_teacher_folder(tmp_path / "teacher", model_max_length=16)
    archive = zip_folder(folder, tmp_path / "teacher.zip")
    from transformers import AutoModelForSequenceClassification

    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    expected = sum(p.numel() for p in AutoModelForSequenceClassification.from_pretrained(folder).parameters())
    teacher = SandboxedTeacher(archive, "huggingface", SandboxPolicy(call_seconds=120, threads=1))
    try:
        figures = teacher.measure(deployment.token_inputs(16, vocab, 0), deployment.timing_dict(TIMING))
    finally:
        teacher.close()
    assert figures["parameters"] == expected and figures["runtime"] == "torch" and figures["threads"] == 1
    assert (figures["latency_calls"], figures["throughput_calls"]) == (10, 5)
    assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p90"] and figures["samples_per_second"] > 0
