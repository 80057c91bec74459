"""Request and response bodies. ``*Create`` comes in, ``*Public`` goes out, lists are ``{data, count}``."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_serializer

from app.budget_schemas import BudgetOutcome, MemberCost
from app.deployment_schemas import DeploymentReport
from models.job_spec import JobSpec
from models.preprocessing import Preprocessing
from models.safe_text import SafeStr
from models.statuses import DeliveryStatus, JobStatus, RunStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TeacherPublic(_Out):
    id: str
    name: str
    format: str
    input_shape: list[int]
    num_classes: int
    arch: str | None = Field(description="safetensors teachers: the zoo architecture.")
    arch_config: dict[str, Any] | None
    fixed_batch_size: int | None = Field(
        None, description="The teacher's graph was exported for this batch size only (no dynamic batch "
        "dimension); the service runs it in chunks of this size, padding the last one.")
    output: str | None = Field(None, description="The output distilled from (an ONNX output name, or an index); "
                               "null: the teacher's only output.")
    output_kind: Literal["logits", "probabilities", "log_probabilities"] = Field(
        "logits", description="What that output holds, as declared at upload or detected on its probe batches "
        "('auto'). Probabilities become log-probabilities before the temperature is applied.")
    input_dtype: Literal["float32", "float16", "int64", "int32", "bool"] = Field(
        "float32", description="The element type the teacher takes; the student takes the same.")
    sha256: str
    size_bytes: int
    created_at: datetime
    sandbox: Literal["namespaces", "rlimits-only", "unavailable"] | None = Field(
        None, description="How this server runs the teacher's code now (its upload check ran the same way): "
        "namespaces (the bubblewrap sandbox), rlimits-only (no bubblewrap: one user's own machine, a plain child "
        "process with memory, CPU and time limits), or unavailable (no sandbox: its jobs fail); Hugging Face "
        "teachers run there too. None for a safetensors teacher, which holds no code and is built from the zoo.")


class TransferSetBuiltinCreate(_In):
    name: SafeStr = Field(min_length=1, max_length=200)
    kind: Literal["builtin"] = "builtin"
    builtin: Literal["digits"] = Field(description="A built-in set: 'digits' (scikit-learn's 8×8 digits).")


class TransferSetImageFolderCreate(_In):
    """A directory of class folders (``class_name/*.png|jpg``) inside a data root; a ``train/`` and ``test/``
    pair gives the test split. Without class folders the set is unlabelled."""

    name: SafeStr = Field(min_length=1, max_length=200)
    kind: Literal["image_folder"]
    path: SafeStr = Field(min_length=1, max_length=1000, description="Inside one of the server's data roots.")
    labelled: bool = True
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)


class TransferSetTorchvisionCreate(_In):
    """A torchvision dataset already on the data volume (``download=False``); its own test split is used."""

    name: SafeStr = Field(min_length=1, max_length=200)
    kind: Literal["torchvision"]
    dataset: Literal["MNIST", "FashionMNIST", "CIFAR10", "CIFAR100", "SVHN"]
    root: SafeStr = Field(min_length=1, max_length=1000, description="The dataset's root, inside a data root.")
    labelled: bool = True
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)


def _transfer_set_kind(value) -> str:
    return value.get("kind", "builtin") if isinstance(value, dict) else getattr(value, "kind", "builtin")


TransferSetJSONCreate = Annotated[
    Annotated[TransferSetBuiltinCreate, Tag("builtin")]
    | Annotated[TransferSetImageFolderCreate, Tag("image_folder")]
    | Annotated[TransferSetTorchvisionCreate, Tag("torchvision")],
    Discriminator(_transfer_set_kind),
]


class TransferSetPublic(_Out):
    id: str
    name: str
    kind: Literal["builtin", "npz", "image_archive", "image_folder", "torchvision", "table", "text"]
    builtin: str | None
    spec: dict[str, Any] | None = Field(description="Where the data is and how it is fed (preprocessing).")
    class_names: list[str] | None
    num_samples: int = Field(description="Samples the student may learn from (the train part).")
    num_test: int = Field(description="Labelled samples results are measured on.")
    sample_shape: list[int]
    dtype: Literal["float32", "float16", "int64", "int32", "bool", "text"] = Field(
        "float32", description="What the samples are: float32, or int64 (ids, counts) or bool where every input "
        "is; a job checks it against its teachers' input_dtype. text: raw texts, tokenized by a Hugging Face "
        "teacher's tokenizer when a job runs (sample_shape is then [] until then).")
    num_classes: int | None
    labelled: bool
    sha256: str | None
    created_at: datetime


class JobCreate(JobSpec):
    # The worker parses the stored job with JobSpec itself; a request may not carry fields it would not read.
    model_config = ConfigDict(extra="forbid")


class Progress(BaseModel):
    epoch: int = Field(description="Epochs finished, over all runs of the job.")
    total_epochs: int
    step: int = Field(description="Steps finished in the epoch under way.")
    steps_per_epoch: int | None
    eta_seconds: float | None = Field(description="Estimated seconds left; known once an epoch has finished.")


class _Open(BaseModel):
    """A part of a job's result. Keys a worker adds later (or that an older worker wrote) pass through, and a
    field the worker did not write is left out of the answer rather than sent as null."""

    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _only_what_was_written(self, handler):
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set or k in (self.model_extra or {})}


class EvaluationReport(_Open):
    """How a network did on the held-out test split (absent where the set has no labels)."""

    samples: int
    test_errors: int | None = None
    test_accuracy: float | None = None
    per_class_errors: dict[str, int] | None = Field(None, description="Errors by true class (index as text).")
    ece: float | None = Field(None, description="Expected calibration error.")
    teacher_agreement: float | None = Field(None, description="Share of test samples where it agrees with the "
                                            "teacher.")
    omitted_class_errors: int | None = Field(None, description="Test errors on the classes left out of the "
                                             "transfer set (omit_classes).")


class RunResult(EvaluationReport):
    """A trained student: its test report and how its training went."""

    samples: int | None = None
    best_epoch: int | None = Field(None, description="The epoch whose weights were kept (best on validation).")
    epochs_run: int | None = None
    stopped_early: bool | None = None
    val_accuracy: float | None = None
    val_cross_entropy: float | None = None
    val_teacher_agreement: float | None = Field(None, description="At the best epoch: the share of validation "
                                                "samples where the student and the teacher agree.")
    bias_correction: float | None = Field(None, description="The raise added to the omitted classes' logits.")
    temperature: float | None = Field(None, description="The temperature temperature \"auto\" chose.")


class SweepRow(_Open, MemberCost):
    """One sweep member or one candidate of the temperature search; its swept parameters are further keys."""

    name: str
    status: str = Field(description="A member's run status, or a temperature-search candidate's: continues, dropped "
                        "or chosen.")
    val_cross_entropy: float | None = None
    val_accuracy: float | None = None
    test_errors: int | None = None
    test_accuracy: float | None = None
    error: str | None = None


class TemperatureCandidate(_Open):
    """One grid temperature as temperature_method 'soft_targets' scored it, before any training."""

    temperature: float
    off_top_mass: float = Field(description="Mean probability the softened teacher puts off its top class.")
    normalized_entropy: float = Field(description="Mean entropy of the softened teacher, over log(classes).")
    score: float = Field(description="|log(off_top_mass / target)|: lower is nearer the target.")
    status: str = Field(description="chosen or candidate.")


class TemperatureSearch(_Open):
    chosen: float
    method: str | None = Field(None, description="soft_targets, soft_targets_checked or halving: how "
                               "temperature \"auto\" chose.")
    margin: float | None = Field(None, description="The runner-up's score minus the winner's: validation "
                                 "cross-entropy (halving), distance from the target share (soft_targets), or "
                                 "validation error rate (soft_targets_checked).")
    chosen_on: str
    target_off_top_mass: float | None = Field(None, description="soft_targets: the share off the top class aimed at.")
    candidates: list[TemperatureCandidate] | None = Field(None, description="soft_targets: every grid temperature's "
                                                          "score, in the grid's order.")
    validation_folds: int | None = Field(None, description="Folds each temperature was scored on.")
    epochs_trained: int = Field(description="Epochs trained by the search and the chosen run together.")
    epochs_in_runs: float = Field(description="The search's cost in full runs (the chosen run included).")
    seconds: float


class ExportInfo(_Open):
    """One export format: its file's sha256 and size, or why it could not be made."""

    sha256: str | None = None
    size_bytes: int | None = None
    error: str | None = None


class JobResult(_Open):
    teacher: EvaluationReport | None = None
    student: RunResult | None = Field(None, description="The distilled student (a sweep's: the best member's).")
    baseline: RunResult | None = Field(None, description="The same student trained on labels alone.")
    best_member: str | None = Field(None, description="The sweep member (or searched temperature) kept.")
    best_member_margin: float | None = Field(
        None, description="Validation cross-entropy of the sweep's runner-up minus the best member's (null under "
        "a budget: result.budget says why its winner won).")
    sweep: list[SweepRow] | None = None
    temperature_search: TemperatureSearch | None = None
    exports: dict[str, ExportInfo] | None = None
    class_names: list[str] | None = None
    deployment: DeploymentReport | None = Field(None, description="What the student buys: size and speed of teacher "
                                                "and students, measured the same way on the worker.")
    budget: BudgetOutcome | None = Field(None, description="A job with a budget: which member it chose, and why.")


class JobPublic(_Out):
    id: str
    status: JobStatus
    teacher_ids: list[str]
    transfer_set_id: str
    student: dict[str, Any]
    hyperparameters: dict[str, Any]
    baseline: bool
    omit_classes: list[int]
    bias_correction: bool
    validation_transfer_set_id: str | None
    student_init_weights: str | None
    sweep: dict[str, Any] | None
    budget: dict[str, Any] | None = None
    export_formats: list[str]
    quantization_aware: bool = False
    quantization_aware_epochs: int | None = Field(None, description="Present when quantization_aware is on.")
    progress: Progress
    cancel_requested: bool
    error: str | None
    result: JobResult | None
    student_formats: list[str] = Field(description="Formats the student can be downloaded in.")
    webhook_url: str | None = None
    webhook_secret: str | None = Field(
        None, description="Verifies the job's webhooks; shown only in the response that created the job (and to "
        "a retry of that request with the same Idempotency-Key).",
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TeacherList(BaseModel):
    data: list[TeacherPublic]
    count: int


class TransferSetList(BaseModel):
    data: list[TransferSetPublic]
    count: int


class JobList(BaseModel):
    data: list[JobPublic]
    count: int


class MetricPoint(BaseModel):
    step: int
    value: float | None


class RunMetrics(BaseModel):
    id: str
    name: str
    status: RunStatus
    result: dict[str, Any] | None
    metrics: dict[str, list[MetricPoint]]


class JobMetrics(BaseModel):
    job_id: str
    runs: list[RunMetrics]


class EventPublic(_Out):
    id: int
    type: str
    message: str
    data: dict[str, Any] | None
    created_at: datetime


class EventList(BaseModel):
    data: list[EventPublic]
    count: int


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


WebhookEventType = Literal["job.started", "job.succeeded", "job.failed", "job.cancelled"]


class WebhookEndpointCreate(_In):
    url: str = Field(min_length=1, max_length=2048, description="An http(s) URL on a public address.")
    events: list[WebhookEventType] = Field(
        default_factory=lambda: ["job.succeeded", "job.failed", "job.cancelled"], min_length=1,
        description="The events to send; job.started only when asked for.",
    )


class WebhookEndpointPublic(_Out):
    id: str
    url: str
    events: list[str]
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointPublic):
    secret: str = Field(description="Verifies this endpoint's deliveries (Standard Webhooks); shown only here.")


class WebhookEndpointList(BaseModel):
    data: list[WebhookEndpointPublic]
    count: int


class WebhookAttempt(BaseModel):
    at: datetime
    status_code: int | None = Field(description="What the receiver answered; null when it could not be reached.")
    error: str | None


class WebhookDeliveryPublic(_Out):
    id: str = Field(description="The webhook-id header of every try of this delivery.")
    endpoint_id: str | None = Field(description="Null for a delivery to the job's own webhook_url.")
    job_id: str
    url: str
    event_type: str
    status: DeliveryStatus
    attempts: list[WebhookAttempt]
    next_attempt_at: datetime | None = Field(description="When the next try is due; null once it has ended.")
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryList(BaseModel):
    data: list[WebhookDeliveryPublic]
    count: int
