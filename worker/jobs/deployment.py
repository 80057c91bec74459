"""What the student buys: the deployment report of a succeeded job (``result.deployment``).

The student's ONNX files are made here first (the fp32 export, and its INT8 quantization when the job asks
for ``onnx_int8``), so that the files measured are the very files the user downloads (``export_all`` stores
them as they are). Then every network is measured the same way (models/deployment.py): on the CPU, on
DISTILLERY_DEPLOYMENT_THREADS threads, the teacher inside its sandbox, the students by ONNX Runtime. Where a
teacher runs in torch (TorchScript, torch.export, zoo weights), the student is timed in torch too, the way
the teacher runs (scripted, as a torch.export graph, or eager), and the speedup compares those two, so that
the ratio is between networks and not between runtimes or execution modes.

A report that cannot be made never fails the job: it says why instead.
"""

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from core.config import get_settings
from core.db import session_scope
from core.store import ArtifactStore
from core.tables import Teacher, TransferSet
from models import deployment as measuring
from models import int8
from models.export import PlainSoftmax, export_onnx, exported, scripted
from models.sandbox.remote import SANDBOXED_FORMATS, SandboxedTeacher
from models.teachers import FrozenModule, load_teacher
from models.transfer_sets import TransferData
from worker.jobs.ending import short_reason
from worker.jobs.transfer_kinds import load_transfer_data

log = logging.getLogger(__name__)
ONNX_FORMATS = ("onnx", "onnx_int8")


def onnx_files(model: PlainSoftmax, input_shape, metadata: dict, formats: list[str], folder: Path,
               data: "DataSource", quantization_aware: PlainSoftmax | None = None) -> dict[str, Path | str]:
    """The fp32 ONNX student (always: the report measures it) and the INT8 one if asked: a path per format
    made, the reason per format that could not be.

    ``quantization_aware``: the student fine-tuned under fake quantization (worker/engine/quantization_aware.py).
    Its float weights are exported and quantized the same way into the ``onnx_int8`` download; the distilled
    student's own quantization is made too, as ``POST_TRAINING``, for the report to compare."""
    made: dict[str, Path | str] = {}
    if not get_settings().deployment_report and not any(f in formats for f in ONNX_FORMATS):
        return made
    fp32 = folder / "student.onnx"
    try:
        export_onnx(model, input_shape, fp32, metadata)
        made["onnx"] = fp32
    except Exception as exc:
        log.exception("the fp32 ONNX export failed")
        made["onnx"] = short_reason(exc)
    if "onnx_int8" in formats:
        if not isinstance(made["onnx"], Path):
            made["onnx_int8"] = f"the INT8 student is made from the ONNX one, which failed ({made['onnx']})"
        else:
            try:
                samples = int8.calibration_samples(data.get().x_train)
                if quantization_aware is None:
                    made["onnx_int8"] = _quantized(fp32, folder / "student.int8.onnx", samples)
                else:
                    made[POST_TRAINING] = _quantized(fp32, folder / "student.ptq.int8.onnx", samples)
                    fine_tuned = folder / "student.qat.onnx"
                    export_onnx(quantization_aware, input_shape, fine_tuned, metadata)
                    made["onnx_int8"] = _quantized(fine_tuned, folder / "student.int8.onnx", samples)
            except Exception as exc:
                log.exception("the INT8 quantization failed")
                made["onnx_int8"] = short_reason(exc)
    return made


POST_TRAINING = "onnx_int8_post_training"  # with quantization_aware: the distilled student's own INT8 file


def _quantized(fp32: Path, path: Path, samples) -> Path:
    int8.quantize(fp32, path, samples)
    return path


class DataSource:
    """The job's transfer data, loaded only if something needs it (a sweep's finish has none at hand)."""

    def __init__(self, store: ArtifactStore, transfer_set_id: str, data: TransferData | None = None):
        self.store, self.transfer_set_id, self._data = store, transfer_set_id, data

    def get(self) -> TransferData:
        if self._data is None:
            with session_scope() as s:
                self._data = load_transfer_data(s.get(TransferSet, self.transfer_set_id), self.store)
        return self._data


def configured_timing() -> measuring.Timing:
    settings = get_settings()
    return measuring.Timing(latency_calls=settings.deployment_latency_calls,
                            throughput_calls=max(measuring.MIN_CALLS, settings.deployment_latency_calls // 10),
                            max_seconds=settings.deployment_max_seconds, round_seconds=measuring.ROUND_SECONDS)


@dataclass(frozen=True)
class _TeacherFile:
    id: str
    format: str
    key: str
    sha256: str
    size_bytes: int
    input_shape: list[int]
    arch: str | None
    arch_config: dict | None

    @classmethod
    def of(cls, row: Teacher) -> "_TeacherFile":
        return cls(row.id, row.format, row.artifact.key, row.artifact.sha256, row.artifact.size_bytes,
                   list(row.input_shape), row.arch, row.arch_config)


def _teacher_inputs(row: _TeacherFile):
    """What a teacher is timed on: its input shape, or for a Hugging Face teacher token ids of its max_length
    (no padding, so the mask it derives from the pad id is all ones: the text student's is the same)."""
    if row.format == "huggingface":
        text = row.arch_config or {}
        return measuring.token_inputs(text["max_length"], text["vocab_size"], text.get("pad_token_id"))
    return row.input_shape


def _measure_teacher(row: _TeacherFile, store: ArtifactStore, threads: int, timing: measuring.Timing) -> dict:
    path = store.open_local(row.key, row.sha256)
    figures: dict
    if row.format in SANDBOXED_FORMATS:
        policy = replace(get_settings().sandbox_policy(), threads=threads)
        teacher = SandboxedTeacher(path, row.format, policy, device="cpu")
        try:
            figures = teacher.measure(_teacher_inputs(row), measuring.timing_dict(timing))
        finally:
            teacher.close()
        figures["runtime"] = measuring.runtime_name(figures["runtime"])
        figures["in_sandbox"] = True
    else:  # zoo weights hold no code: built and timed here
        module = load_teacher(path, row.format, arch=row.arch, arch_config=row.arch_config,
                              input_shape=row.input_shape)
        figures = {"parameters": measuring.torch_parameters(module),
                   **measuring.measure_torch(module, row.input_shape, threads, timing), "in_sandbox": False}
    return {"id": row.id, "format": row.format, "size_bytes": row.size_bytes, **figures}


def _ensemble(members: list[dict]) -> dict:
    """An ensemble runs every member on each input: its cost is their sum."""
    if len(members) == 1:
        return members[0]
    total = {k: sum(m[k] for m in members) for k in ("parameters", "size_bytes", "latency_ms_p50", "latency_ms_p90")}
    total["samples_per_second"] = 1.0 / sum(1.0 / m["samples_per_second"] for m in members)
    runtimes = sorted({m["runtime"] for m in members})
    return {**total, "runtime": ", ".join(runtimes), "threads": members[0]["threads"], "in_sandbox": True,
            "members": members}


def _as_teacher_runs(model: PlainSoftmax, formats: set[str], input_shape):
    """The student run the way the torch teacher runs (its mode and the module): scripted beside a TorchScript
    teacher, a torch.export graph beside an exported program, eager beside zoo weights (or an ensemble of
    several kinds), so that ``speedup`` compares networks and not execution modes."""
    fmt = next(iter(formats)) if len(formats) == 1 else None
    if fmt == "torchscript":
        return "torchscript", scripted(model, input_shape)
    if fmt == "exported_program":
        return "exported_program", FrozenModule(exported(model, input_shape).module())
    return "eager", model


def _ratio(a, b) -> float | None:
    return float(a) / float(b) if a is not None and b else None


def frame(threads: int) -> dict:
    """What every report starts with: how its networks were run."""
    return {"threads": threads, "latency_batch": measuring.LATENCY_BATCH,
            "throughput_batch": measuring.THROUGHPUT_BATCH}


def measure_teachers(teacher_ids: list[str], store: ArtifactStore, threads: int, timing: measuring.Timing,
                     out: dict) -> tuple[list[_TeacherFile], dict | None]:
    """The job's teachers (one, or an ensemble summed) into ``out["teacher"]``, or why not into
    ``teacher_error``; returns the rows and the figures (None when they could not be measured)."""
    with session_scope() as s:
        rows = [_TeacherFile.of(s.get(Teacher, tid)) for tid in teacher_ids]
    try:
        out["teacher"] = _ensemble([_measure_teacher(r, store, threads, timing) for r in rows])
    except Exception as exc:
        log.exception("the teacher could not be measured")
        out["teacher_error"] = short_reason(exc)
    return rows, out.get("teacher")


def student_entry(fp32: Path, parameters: int, exports: dict[str, dict]) -> dict:
    """The fp32 ONNX student's entry before its timing: the file measured and whether it is a download."""
    return {"format": "onnx", "parameters": parameters, "size_bytes": fp32.stat().st_size,
            "exported": "onnx" in exports and "error" not in exports["onnx"],
            "export_sizes": {f: e["size_bytes"] for f, e in exports.items() if "size_bytes" in e}}


def add_ratios(out: dict, teacher: dict | None, speed_reference: dict) -> None:
    """speedup and throughput_gain against ``speed_reference`` (the student in the teacher's runtime), and
    compression against the fp32 ONNX file."""
    if teacher is not None:
        out["speedup"] = _ratio(teacher["latency_ms_p50"], speed_reference["latency_ms_p50"])
        out["throughput_gain"] = _ratio(speed_reference["samples_per_second"], teacher["samples_per_second"])
        out["compression"] = _ratio(teacher["size_bytes"], out["student"]["size_bytes"])
        out["speedup_runtime"] = speed_reference["runtime"]


def runs_in_torch(teacher: dict | None) -> bool:
    return teacher is not None and not teacher["runtime"].startswith("onnxruntime")


def report(*, model: PlainSoftmax, teacher_ids: list[str], store: ArtifactStore, files: dict[str, Path | str],
           exports: dict[str, dict], data: DataSource, quantization_aware: dict | None = None) -> dict:
    """The deployment report: teacher, student and (when exported) student_int8, and the ratios.
    ``quantization_aware``: the fine-tune's summary, where the job asked for one."""
    threads, timing = get_settings().deployment_threads, configured_timing()
    out = frame(threads)
    rows, teacher = measure_teachers(teacher_ids, store, threads, timing, out)
    input_shape = rows[0].input_shape
    parameters = measuring.torch_parameters(model.student)
    fp32 = files.get("onnx")
    if not isinstance(fp32, Path):
        out["student_error"] = f"the student has no ONNX file to measure ({fp32})"
        return out
    out["student"] = {**student_entry(fp32, parameters, exports),
                      **measuring.measure_onnx(fp32, input_shape, threads, timing)}
    speed_reference = out["student"]
    if runs_in_torch(teacher):
        mode, runnable = _as_teacher_runs(model, {r.format for r in rows}, input_shape)
        out["student_torch"] = {"parameters": parameters, "mode": mode,
                                **measuring.measure_torch(runnable, input_shape, threads, timing)}
        speed_reference = out["student_torch"]
    add_ratios(out, teacher, speed_reference)
    quantized = files.get("onnx_int8")
    if isinstance(quantized, Path):
        transfer = data.get()
        entry = {"format": "onnx_int8", "parameters": parameters, "size_bytes": quantized.stat().st_size,
                 **measuring.measure_onnx(quantized, input_shape, threads, timing),
                 "calibration_samples": min(int8.CALIBRATION_SAMPLES, len(transfer.x_train))}
        has_test = transfer.x_test is not None and len(transfer.x_test)
        if has_test:
            entry.update(int8.compare(fp32, quantized, transfer.x_test, transfer.y_test, threads))
        entry["quantization"] = "post_training" if quantization_aware is None else "quantization_aware"
        if quantization_aware is not None:
            entry.update(_both_quantizations(entry, files.get(POST_TRAINING), fp32, transfer, threads,
                                             quantization_aware, has_test))
        out["student_int8"] = entry
        out["int8_compression_vs_fp32"] = _ratio(out["student"]["size_bytes"], entry["size_bytes"])
        out["int8_speedup_vs_fp32"] = _ratio(out["student"]["latency_ms_p50"], entry["latency_ms_p50"])
        if teacher is not None:
            out["speedup_int8"] = _ratio(teacher["latency_ms_p50"], entry["latency_ms_p50"])
            out["compression_int8"] = _ratio(teacher["size_bytes"], entry["size_bytes"])
    elif quantized is not None:
        out["student_int8_error"] = quantized
    return out


_ANSWERS = ("test_accuracy", "accuracy_change", "agreement_with_fp32")


def _both_quantizations(entry: dict, post_training: Path | str | None, fp32: Path, transfer: TransferData,
                        threads: int, fine_tune: dict, has_test: bool) -> dict:
    """student_int8's ``post_training`` (the distilled student quantized as it is) and ``quantization_aware``
    (the download: fine-tuned under fake quantization first) side by side, each against the same fp32 file."""
    qat = {"epochs": fine_tune.get("epochs"), **{k: entry[k] for k in _ANSWERS if k in entry},
           **{k: fine_tune[k] for k in ("best_epoch", "learning_rate") if k in fine_tune}}
    if not isinstance(post_training, Path):
        return {"quantization_aware": qat, "post_training_error": str(post_training)}
    ptq: dict = {"size_bytes": post_training.stat().st_size}
    if has_test:
        compared = int8.compare(fp32, post_training, transfer.x_test, transfer.y_test, threads)
        ptq.update({k: compared[k] for k in _ANSWERS if k in compared})
    return {"post_training": ptq, "quantization_aware": qat}
