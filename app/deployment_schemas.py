"""What the student buys, as the API shows it: ``result.deployment`` of a succeeded job (worker/jobs/deployment.py
writes it; models/deployment.py says how each figure is measured)."""

from pydantic import BaseModel, ConfigDict, Field, model_serializer


class _Written(BaseModel):
    """Keys a worker adds later pass through; a field the worker did not write is left out, not sent as null
    (as app/schemas.py's result parts do)."""

    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _only_what_was_written(self, handler):
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set or k in (self.model_extra or {})}


class NetworkCost(_Written):
    """One network's size and speed on the worker's CPU."""

    parameters: int | None = Field(None, description="Weights: a torch network's parameters; for an ONNX teacher, "
                                   "the elements of its floating-point initializers.")
    size_bytes: int | None = Field(None, description="The uploaded teacher file, or the exported student file.")
    latency_ms_p50: float | None = Field(None, description="Median milliseconds of one call at batch 1.")
    latency_ms_p90: float | None = Field(None, description="90th percentile milliseconds of one call at batch 1.")
    samples_per_second: float | None = Field(None, description="Throughput at batch 64.")
    runtime: str | None = Field(None, description="What ran it, with its version (onnxruntime or torch).")
    threads: int | None = Field(None, description="Intra-op threads it ran on.")
    format: str | None = None
    in_sandbox: bool | None = Field(None, description="A teacher: timed inside its sandbox.")
    mode: str | None = Field(None, description="student_torch: how torch ran the student, the way the teacher runs: "
                             "'torchscript' (scripted), 'exported_program' (a torch.export graph) or 'eager'.")
    inputs: list[str] | None = Field(None, description="A text student: the token-id inputs its ONNX file was timed "
                                     "with ('input_ids', and 'attention_mask' for a transformer).")
    export_sizes: dict[str, int] | None = Field(None, description="The student: each exported file's bytes, by "
                                                "format.")


class Int8Answers(_Written):
    """One INT8 file's answers on the test split, beside the fp32 ONNX student's (the job's onnx download)."""

    test_accuracy: float | None = None
    accuracy_change: float | None = Field(None, description="test_accuracy minus the fp32 student's.")
    agreement_with_fp32: float | None = Field(None, description="Share of test samples where this INT8 file and "
                                              "the fp32 student predict the same class.")


class PostTrainingAnswers(Int8Answers):
    """The distilled student quantized as it is (static quantization alone); not downloadable."""

    size_bytes: int | None = None


class QuantizationAwareAnswers(Int8Answers):
    """The onnx_int8 download: the student fine-tuned under fake quantization, then quantized the same way."""

    epochs: int | None = Field(None, description="Fine-tune epochs run.")
    best_epoch: int | None = Field(None, description="The fine-tune epoch whose weights were kept (best on "
                                   "validation, measured fake-quantized).")
    learning_rate: float | None = Field(None, description="The fine-tune's rate: a tenth of the job's.")


class Int8Cost(NetworkCost):
    """The INT8 student: its cost, and what quantization did to its answers on the test split."""

    test_accuracy: float | None = None
    fp32_test_accuracy: float | None = Field(None, description="The fp32 ONNX student's, run the same way.")
    accuracy_change: float | None = Field(None, description="test_accuracy minus fp32_test_accuracy.")
    agreement_with_fp32: float | None = Field(None, description="Share of test samples where the INT8 and the fp32 "
                                              "students predict the same class.")
    calibration_samples: int | None = Field(None, description="Transfer-set samples the quantization was "
                                            "calibrated on.")
    quantization: str | None = Field(None, description="How the downloaded INT8 file was made: 'post_training' "
                                     "(the distilled student quantized as it is) or 'quantization_aware' (the job's "
                                     "quantization_aware: fine-tuned under fake quantization first).")
    post_training: PostTrainingAnswers | None = Field(None, description="With quantization_aware: what static "
                                                      "quantization alone gave the distilled student.")
    quantization_aware: QuantizationAwareAnswers | None = Field(None, description="With quantization_aware: the "
                                                                "download's figures (as at the top) and its fine-tune.")
    post_training_error: str | None = Field(None, description="Why the post-training INT8 file for the comparison "
                                            "could not be made.")


class DeploymentReport(_Written):
    """Teacher, student and INT8 student measured the same way on the worker (one thread count, warm-up first;
    the teacher in its sandbox), and the ratios between them."""

    threads: int | None = None
    sequence_length: int | None = Field(None, description="A text job: the tokens of each timed sample (the "
                                        "teacher's max_length, no padding).")
    teacher: NetworkCost | None = None
    student: NetworkCost | None = Field(None, description="The fp32 student, run by ONNX Runtime.")
    student_torch: NetworkCost | None = Field(None, description="The student run by torch the way the teacher "
                                              "runs (mode), present where the teacher runs in torch: the speedup "
                                              "compares those two.")
    student_int8: Int8Cost | None = Field(None, description="Present when the job exports onnx_int8.")
    speedup: float | None = Field(None, description="Teacher's median batch-1 latency over the student's, both in "
                                  "speedup_runtime.")
    speedup_runtime: str | None = None
    throughput_gain: float | None = Field(None, description="Student's samples per second over the teacher's.")
    compression: float | None = Field(None, description="Teacher file's bytes over the student file's.")
    speedup_int8: float | None = None
    compression_int8: float | None = None
    int8_speedup_vs_fp32: float | None = None
    int8_compression_vs_fp32: float | None = None
    latency_batch: int | None = None
    throughput_batch: int | None = None
    error: str | None = Field(None, description="Why no report could be made (the job succeeded nonetheless).")
    teacher_error: str | None = Field(None, description="Why the teacher could not be measured.")
    student_error: str | None = Field(None, description="Why the student could not be measured.")
    student_int8_error: str | None = Field(None, description="Why no INT8 student could be made (a text job: it is "
                                           "not made for text students).")
