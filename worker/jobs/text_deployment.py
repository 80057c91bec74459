"""What a text student buys: the deployment report of a job distilling a Hugging Face teacher
(``result.deployment``), made the way worker/jobs/deployment.py makes every other one.

Every network is timed on the same token ids: a fixed pseudo-random batch of the job's ``max_length`` ids (never
the pad id, so no position is padding) and, for an ONNX file that takes one, an all-ones ``attention_mask``. The
teacher is timed inside its sandbox, in torch; the student's ONNX export in ONNX Runtime, and the student in
torch too (eager, as the teacher runs), which is what ``speedup`` compares. There is no INT8 text student: the
report says so rather than failing.
"""

from pathlib import Path

from core.config import get_settings
from core.store import ArtifactStore
from models import deployment as measuring
from models.export import PlainSoftmax
from models.text.exports import ONNX_INPUTS
from worker.jobs import deployment

NO_INT8 = "the INT8 student is not made for text students (onnx_int8 is not among their export formats)"


def report(*, model: PlainSoftmax, spec, store: ArtifactStore, files: dict[str, Path | str],
           exports: dict[str, dict]) -> dict:
    threads, timing = get_settings().deployment_threads, deployment.configured_timing()
    out = deployment.frame(threads)
    rows, teacher = deployment.measure_teachers(list(spec.teacher_ids), store, threads, timing, out)
    text = rows[0].arch_config or {}
    out["sequence_length"] = int(text["max_length"])
    out["student_int8_error"] = files["onnx_int8"] if isinstance(files.get("onnx_int8"), str) else NO_INT8
    parameters = measuring.torch_parameters(model.student)
    fp32 = files.get("onnx")
    if not isinstance(fp32, Path):
        out["student_error"] = f"the student has no ONNX file to measure ({fp32})"
        return out
    ids = (text["max_length"], text["vocab_size"], text.get("pad_token_id"))
    # a transformer's file takes the mask as its second input; a BiLSTM's derives it from the pad id, as in torch
    onnx_inputs = measuring.token_inputs(*ids, mask=ONNX_INPUTS[1] if spec.student.arch == "transformer" else None)
    out["student"] = {**deployment.student_entry(fp32, parameters, exports),
                      "inputs": [i.name for i in onnx_inputs],
                      **measuring.measure_onnx(fp32, onnx_inputs, threads, timing)}
    speed_reference = out["student"]
    if deployment.runs_in_torch(teacher):
        out["student_torch"] = {"parameters": parameters, "mode": "eager",
                                **measuring.measure_torch(model, measuring.token_inputs(*ids), threads, timing)}
        speed_reference = out["student_torch"]
    deployment.add_ratios(out, teacher, speed_reference)
    return out
