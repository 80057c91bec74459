"""A job as submitted: its teachers, transfer set, student, hyperparameters and options. The API validates
requests with it (app/schemas.py's JobCreate is this type, refusing unknown fields), and the worker parses
the stored job into it once, where it loads the job, and passes the typed object down."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.budget import Budget
from models.distill_config import DistillConfig, KDConfig, MethodConfig, SweepSpec
from models.safe_text import SafeStr
from models.specs import StudentSpec

ExportFormat = Literal["torchscript", "exported_program", "onnx", "safetensors", "onnx_int8", "huggingface"]

# The students whose quantization the fine-tune can mirror (worker/engine/fake_quant.py): a torchvision
# network's batch norms are not folded the way its ONNX export folds them.
QUANTIZATION_AWARE_ARCHS = ("mlp", "cnn", "embedding_bag")

# Columns of the job's row of their own, not in its stored spec.
ROW_FIELDS = {"teacher_ids", "transfer_set_id"}


def _student_optional(schema: dict) -> None:
    """The schema says what the API accepts: a job with sweep.students may leave student out."""
    schema["required"] = [k for k in schema.get("required", []) if k != "student"]


class JobSpec(BaseModel):
    teacher_ids: list[SafeStr] = Field(min_length=1, max_length=16)
    transfer_set_id: SafeStr
    model_config = ConfigDict(json_schema_extra=_student_optional)

    student: StudentSpec = Field(description="The student. With sweep.students it may be left out: it is then the "
                                 "first of them, and it must be one of them if given.")
    hyperparameters: MethodConfig = Field(default_factory=KDConfig)
    baseline: bool = Field(False, description="Also train the same student from scratch on labels alone.")
    omit_classes: list[int] = Field(default_factory=list, description="Classes dropped from the transfer set.")
    bias_correction: bool = Field(False, description="Raise the omitted classes' output biases on export.")
    validation_transfer_set_id: SafeStr | None = Field(
        None, description="Validate on this set instead of a fraction of the transfer set."
    )
    student_init_weights: SafeStr | None = Field(
        None, description="Start the student from these weights: the id of a safetensors network uploaded with "
        "POST /v1/teachers whose arch and arch_config match the student.",
    )
    sweep: SweepSpec | None = Field(
        None, description="Train one member per combination in parallel; the best on validation is the student."
    )
    budget: Budget | None = Field(
        None, description="Bounds on the student's cost: the sweep's student is the most accurate member on "
        "validation within them (or, with none within, the nearest; result.budget says which). Needs "
        "sweep.students.")
    export_formats: list[ExportFormat] = Field(
        default_factory=lambda: ["exported_program", "onnx", "safetensors", "torchscript"], min_length=1,
        description="Formats to export the student in (torchscript is deprecated by PyTorch 2.14 and kept for "
        "consumers that still read it). onnx_int8: the ONNX student quantized to 8 bits (ONNX Runtime static "
        "quantization calibrated on transfer-set samples); its accuracy is in result.deployment. huggingface: a "
        "transformer text student as a zip that AutoModelForSequenceClassification and AutoTokenizer load (a text "
        "job's default is huggingface, onnx and safetensors).",
    )
    quantization_aware: bool = Field(
        False, description="Fine-tune the distilled student under INT8 fake quantization (the rounding onnx_int8 "
        "will have), still distilling from the teacher, and make onnx_int8 from those weights; "
        "result.deployment.student_int8 then reports both it and the post-training quantization. Needs "
        "onnx_int8 among export_formats.",
    )
    quantization_aware_epochs: int = Field(
        3, ge=1, le=50, description="With quantization_aware: the fine-tune's epochs, at a tenth of the job's "
        "learning rate.",
    )
    webhook_url: str | None = Field(
        None, max_length=2048, description="POST job.succeeded, job.failed and job.cancelled here, signed as "
        "Standard Webhooks says with the webhook_secret that the response creating the job shows once.",
    )

    @field_validator("omit_classes")
    @classmethod
    def _omit(cls, v: list[int]) -> list[int]:
        if any(c < 0 for c in v):
            raise ValueError("class indices are numbered from 0")
        return sorted(set(v))

    @model_validator(mode="before")
    @classmethod
    def _first_student(cls, data):
        """Without a student, the first of sweep.students stands for it (without either, the missing student
        is the error, at its field)."""
        if isinstance(data, dict) and data.get("student") is None:
            sweep = data.get("sweep")
            students = sweep.get("students") if isinstance(sweep, dict) else getattr(sweep, "students", None)
            if isinstance(students, list) and students:
                return {**data, "student": students[0]}
        return data

    @model_validator(mode="after")
    def _students(self) -> "JobSpec":
        students = (self.sweep.students if self.sweep else None) or []
        if students and self.student not in students:
            raise ValueError("student is not one of sweep.students: leave student out (the first of sweep.students "
                             "stands for it), or list it in sweep.students")
        if self.budget is not None and not students:
            raise ValueError("a budget chooses the best student among several: add sweep.students with "
                             "2 to 8 students to try")
        if students and self.student_init_weights:
            raise ValueError("student_init_weights starts one student, and sweep.students trains several: drop "
                             "student_init_weights or sweep.students")
        return self

    def member_spec(self, name: str) -> "JobSpec":
        """The spec a sweep member trains with: the job's, with the member's own student where the sweep
        varies students."""
        student = self.sweep.member_students().get(name) if self.sweep else None
        return self if student is None else self.model_copy(update={"student": student})

    @model_validator(mode="after")
    def _quantization_aware(self) -> "JobSpec":
        if not self.quantization_aware:
            return self
        if "onnx_int8" not in self.export_formats:
            raise ValueError("quantization_aware fine-tunes the student for its INT8 file: add 'onnx_int8' to "
                             "export_formats, or drop quantization_aware")
        if self.sweep is not None:
            raise ValueError("quantization_aware is not available with a sweep yet: train the chosen member's "
                             "settings as a job of its own with quantization_aware")
        if self.student.arch not in QUANTIZATION_AWARE_ARCHS:
            raise ValueError(f"quantization_aware supports the students {', '.join(QUANTIZATION_AWARE_ARCHS)}; "
                             f"{self.student.arch!r} is quantized after training only (drop quantization_aware)")
        return self

    def stored(self) -> dict:
        """The JSON the job's row keeps in its ``spec`` column."""
        return self.model_dump(mode="json", exclude=ROW_FIELDS)

    @classmethod
    def from_stored(cls, stored: dict, *, teacher_ids: list[str], transfer_set_id: str) -> "JobSpec":
        return cls.model_validate({**stored, "teacher_ids": teacher_ids, "transfer_set_id": transfer_set_id})

    def config(self, update: dict | None = None) -> DistillConfig:
        """The hyperparameters with ``update`` applied and validated again: a sweep member's or a baseline's
        settings must satisfy the method's rules as the submitted ones did."""
        if not update:
            return self.hyperparameters
        return DistillConfig.model_validate({**self.hyperparameters.model_dump(), **update})

    def members(self) -> list[str]:
        """The sweep's members' names, in the grid's order."""
        return [name for name, _ in self.sweep.members(self.hyperparameters)] if self.sweep else []
