"""A text student's exports (issue 27): made here, then stored by ``export_all`` as they are.

- ``huggingface``: the transformer student's save_pretrained folder with the teacher's tokenizer files and
  id2label, zipped (models/text/exports.py).
- ``onnx``: a transformer student takes ``input_ids`` and ``attention_mask`` and returns ``probabilities``; a
  BiLSTM student the one ``input`` of ids as every other Distillery ONNX student.
- ``safetensors``: the generic export, whose config also carries the teacher's vocabulary (``text``) so that
  ``models.export.load_safetensors_student`` rebuilds the student.
- torchscript, exported_program and onnx_int8 are not made for text students: each says so.

The ONNX file is made even when ``onnx`` is not among the job's formats, while the deployment report is on: the
report measures it (worker/jobs/text_deployment.py), and ``export_all`` stores only the formats asked for.
"""

import logging
from pathlib import Path

from core.config import get_settings
from core.db import session_scope
from core.store import ArtifactStore
from core.tables import Teacher
from models.export import PlainSoftmax
from models.export import export_onnx as export_plain_onnx
from worker.jobs.ending import short_reason
from worker.jobs.text_data import teacher_folder, text_info

log = logging.getLogger(__name__)
NOT_FOR_TEXT = ("torchscript", "exported_program", "onnx_int8")


def is_text_student(spec) -> bool:
    from models.text.students import TEXT_ARCHS

    return spec.student.arch in TEXT_ARCHS


def text_files(student: PlainSoftmax, spec, store: ArtifactStore, folder: Path, metadata: dict
               ) -> tuple[dict[str, Path | str], dict]:
    """The files (or the reason per format not made) and the metadata the safetensors file carries."""
    from models.text import exports as text_exports

    with session_scope() as s:
        teacher = s.get(Teacher, spec.teacher_ids[0])
        text = text_info(teacher)
        tokenizer = teacher_folder(teacher, store)
    made: dict[str, Path | str] = {}
    transformer = spec.student.arch == "transformer"
    # the teacher's id2label, in its order (a text set's own class_names are in the order the rows named them)
    class_names = list(text["class_names"])
    measured = ["onnx"] if get_settings().deployment_report and "onnx" not in spec.export_formats else []
    for fmt in [*spec.export_formats, *measured]:
        try:
            if fmt in NOT_FOR_TEXT or (fmt == "huggingface" and not transformer):
                made[fmt] = (f"the {fmt} export is not made for {spec.student.arch} text students; "
                             f"use {'huggingface, ' if transformer else ''}onnx or safetensors")
            elif fmt == "huggingface":
                out = text_exports.export_huggingface(student.student, folder / "hf", tokenizer_folder=tokenizer,
                                                      class_names=class_names, max_length=text["max_length"])
                made[fmt] = text_exports.zip_folder(out, folder / "student.zip")
            elif fmt == "onnx" and transformer:
                made[fmt] = text_exports.export_onnx(student.student, folder / "student.onnx",
                                                     pad_token_id=text["pad_token_id"])
            elif fmt == "onnx":
                export_plain_onnx(student, [text["max_length"]], folder / "student.onnx", metadata)
                made[fmt] = folder / "student.onnx"
        except Exception as exc:
            log.exception("the %s export of a text student failed", fmt)
            made[fmt] = short_reason(exc)
    keep = ("vocab_size", "pad_token_id", "max_length", "max_position_embeddings", "class_names")
    return made, {**metadata, "class_names": class_names, "text": {k: text.get(k) for k in keep}}
