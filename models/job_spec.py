"""A job as submitted: its teachers, transfer set, student, hyperparameters and options. The API validates
requests with it (app/schemas.py's JobCreate is this type, refusing unknown fields), and the worker parses
the stored job into it once, where it loads the job, and passes the typed object down."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from models.distill_config import DistillConfig, KDConfig, MethodConfig, SweepSpec
from models.safe_text import SafeStr
from models.specs import StudentSpec

ExportFormat = Literal["torchscript", "exported_program", "onnx", "safetensors", "onnx_int8", "huggingface"]

# Columns of the job's row of their own, not in its stored spec.
ROW_FIELDS = {"teacher_ids", "transfer_set_id"}


class JobSpec(BaseModel):
    teacher_ids: list[SafeStr] = Field(min_length=1, max_length=16)
    transfer_set_id: SafeStr
    student: StudentSpec
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
    export_formats: list[ExportFormat] = Field(
        default_factory=lambda: ["exported_program", "onnx", "safetensors", "torchscript"], min_length=1,
        description="Formats to export the student in (torchscript is deprecated by PyTorch 2.14 and kept for "
        "consumers that still read it). onnx_int8: the ONNX student quantized to 8 bits (ONNX Runtime static "
        "quantization calibrated on transfer-set samples); its accuracy is in result.deployment. huggingface: a "
        "transformer text student as a zip that AutoModelForSequenceClassification and AutoTokenizer load (a text "
        "job's default is huggingface, onnx and safetensors).",
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
