"""The hyperparameters of one distillation run.

Pure pydantic, no torch: the API validates a job's ``hyperparameters`` with this same class,
so the rules (and the 422 messages naming the field) live in one place.
"""

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
    create_model,
    model_validator,
)

from models.specs import StudentSpec
from models.student_sweep import MAX_STUDENTS, MIN_STUDENTS, student_labels


class Augmentation(BaseModel):
    """Training-only augmentation of image inputs [C, H, W]; evaluation never augments. Turns the
    teacher-output cache off for training: the teacher runs on each augmented batch."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    random_crop_padding: int = Field(0, ge=0, le=64, description="Pad by this many pixels, crop back at random.")
    horizontal_flip: bool = Field(False, description="Flip half the images left-right.")

    @property
    def active(self) -> bool:
        return bool(self.random_crop_padding or self.horizontal_flip)


METHODS = ("kd", "logit_matching", "dkd", "dist")


def _one_error(value, handler):
    """A number or "auto": one error at the field itself, not one per alternative (which would be located
    at "temperature.constrained-float" and "temperature.literal['auto']")."""
    try:
        return handler(value)
    except ValidationError as exc:
        reasons = [e["msg"] for e in exc.errors() if e["type"] != "literal_error"] or ["Input should be a number"]
        raise ValueError(f'{reasons[0]}, or "auto"') from None


# "auto" as a one-value enum, not a const: openapi-python-client 0.29 parses a number-or-const union by
# checking the const alone, so a generated client refused every number.
_Auto = Annotated[Literal["auto"], WithJsonSchema({"type": "string", "enum": ["auto"]})]
TemperatureOrAuto = Annotated[Annotated[float, Field(gt=0, le=1000)] | _Auto, WrapValidator(_one_error)]
MAX_DEVICES = 64  # the most GPUs (or CPU processes) one job may train on; a worker may allow fewer
WeightOrAuto = Annotated[Annotated[float, Field(ge=0)] | _Auto, WrapValidator(_one_error)]


class DistillConfig(BaseModel):
    """Settings every method shares. ``DistillConfig(...)`` and ``DistillConfig.model_validate(...)`` give the
    method's own subclass, chosen by ``loss`` (``kd`` when absent), so each method validates its own
    parameters and refuses another method's; :data:`MethodConfig` is the same choice as a type."""

    # Infinity and NaN (which Python's JSON parser reads) are no hyperparameters: refused, not trained on.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    loss: Literal["kd", "logit_matching", "dkd", "dist"] = Field(
        "kd", description="'kd': a·T²·KL(q‖p) + b·CE (Hinton); 'logit_matching': a·MSE(z, v) + b·CE (Caruana); "
        "'dkd': decoupled KD, a·T²·(alpha·TCKD + beta·NCKD) + b·CE (Zhao et al. 2022); 'dist': "
        "a·T²·(inter_weight·inter + intra_weight·intra) + b·CE, each 1 − Pearson correlation (Huang et al. 2022)."
    )
    temperature: TemperatureOrAuto = Field(
        2.0, description="Softmax temperature T of the soft term, or \"auto\": chosen from temperature_grid "
        "by temperature_method.")
    temperature_grid: list[Annotated[float, Field(gt=0, le=1000)]] = Field(
        [1.0, 2.0, 5.0, 10.0, 20.0], min_length=2, max_length=16,
        description="temperature \"auto\": the candidates (the paper's grid by default).")
    # temperature "auto" by the teacher's soft targets (issue 29)
    temperature_method: Literal["soft_targets", "soft_targets_checked", "halving"] = Field(
        "soft_targets", description="temperature \"auto\": 'soft_targets' picks, before any training, the grid "
        "temperature whose softened teacher outputs on the transfer set put a share soft_target_mass of their "
        "probability off the top class most nearly (one run's cost); 'soft_targets_checked' also trains the "
        "grid's coolest temperature to the end and keeps the better of the two full runs on validation "
        "accuracy, then cross-entropy (at most two runs' cost); 'halving' trains the candidates in rounds of "
        "successive halving on validation cross-entropy (up to 2.5 runs' cost), which favours low "
        "temperatures that converge fast early.")
    soft_target_mass: float = Field(
        0.2, gt=0, lt=1, description="temperature_method 'soft_targets': the mean probability the softened "
        "teacher distribution should put off its top class; higher picks hotter temperatures.")
    temperature_search_epochs: int | None = Field(
        None, gt=0, description="temperature \"auto\": epochs each round trains its candidates; None: as many as "
        "keep the whole search within 1.5× one run's epochs.")
    validation_folds: int = Field(
        1, ge=1, le=10, description="temperature \"auto\": score each candidate by k-fold cross-validation, the "
        "mean over k splits that each hold back a k-th of the transfer set (the search's rounds then cost k "
        "times as much; worth it on small sets, where the teacher pass is the large cost). 1: one split of "
        "validation_fraction.")
    soft_weight: WeightOrAuto = Field(
        0.5, description="Weight a of the soft term, or \"auto\": set from the gradient norms so that the "
        "weighted distillation part's gradient is soft_to_hard_grad_ratio times the weighted hard term's, "
        "measured on each epoch's first batch and every 100 steps after it.")
    soft_to_hard_grad_ratio: float = Field(
        1.0, gt=0, le=1000, description="soft_weight \"auto\": the gradient-norm ratio, distillation to hard.")
    hard_weight: float = Field(0.5, ge=0, description="Weight b of the hard-label term; 0 for unlabelled sets.")
    scale_soft_by_t2: bool = Field(True, description="Multiply the soft term by T² (Hinton et al.).")
    ensemble: Literal["arithmetic", "geometric"] = Field(
        "arithmetic", description="How several teachers' distributions are combined."
    )
    epochs: int = Field(30, gt=0, le=10_000)
    batch_size: int = Field(64, gt=0, le=65_536)
    learning_rate: float = Field(0.1, gt=0, le=100)
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd"
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum.")
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0, le=1)
    schedule: Literal["constant", "step", "cosine", "onecycle"] = "constant"
    warmup_epochs: int = Field(0, ge=0, description="Linear warm-up from 0 (not used by 'onecycle').")
    step_size: int = Field(10, gt=0, description="'step' schedule: epochs between decays.")
    gamma: float = Field(0.1, gt=0, le=1, description="'step' schedule: decay factor.")
    grad_clip: float | None = Field(None, gt=0, description="Clip the gradient's global norm to this value.")
    seed: int = Field(0, ge=0, lt=2**31)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    devices: int = Field(
        1, ge=1, le=MAX_DEVICES, description="Train the job's run on this many devices at once with "
        "DistributedDataParallel: GPUs on a CUDA worker, processes on a CPU one. batch_size is per device, so "
        "each step sees devices × batch_size samples.")
    validation_fraction: float = Field(
        0.1, ge=0, lt=1, description="Share of the transfer set held out to pick the best epoch."
    )
    early_stopping_patience: int | None = Field(
        None, gt=0, description="Stop after this many epochs without a better validation accuracy."
    )
    augmentation: Augmentation | None = Field(None, description="Training-only image augmentation.")
    teacher_cache: bool = Field(
        True, description="Reuse the teacher's cached outputs on the transfer set (ignored under augmentation)."
    )
    compile: bool = Field(False, description="torch.compile the student.")
    channels_last: bool = Field(False, description="Train conv students in channels_last memory format.")

    def temperature_search(self) -> tuple[int, list[int]]:
        """temperature "auto": (epochs per round, candidates in each round). Each round trains its candidates
        on from where they stand; the better half (at least one) goes on, and the last one left trains to
        the end. Candidates beyond the winner cost ``epochs_per_round · Σ(candidates − 1)`` epochs."""
        grid = self.temperature_grid
        if len({f"{t:g}" for t in grid}) != len(grid):
            raise ValueError(f"temperature_grid {grid} repeats a value; give each temperature once")
        if self.validation_fraction == 0 and self.validation_folds == 1:
            raise ValueError("temperature \"auto\" chooses on validation data: set validation_fraction above 0")
        rounds = [len(grid)]
        while rounds[-1] > 1:
            rounds.append(rounds[-1] // 2)
        rounds = rounds[:-1]
        extra = sum(n - 1 for n in rounds)
        per_round = self.temperature_search_epochs or max(1, self.epochs // (2 * extra))
        if per_round * len(rounds) > self.epochs:
            raise ValueError(f"temperature \"auto\" runs {len(rounds)} rounds of {per_round} epochs, more than epochs "
                             f"({self.epochs}): raise epochs or lower temperature_search_epochs")
        if self.epochs + per_round * extra > 2.5 * self.epochs:
            raise ValueError(f"temperature \"auto\" over {len(grid)} temperatures would train "
                             f"{self.epochs + per_round * extra} epochs, more than 2.5× epochs ({self.epochs}): raise "
                             "epochs, shorten temperature_grid or lower temperature_search_epochs")
        return per_round, rounds

    @property
    def auto_temperature(self) -> bool:
        return self.temperature == "auto"

    @property
    def halving(self) -> bool:
        """temperature "auto" by a successive-halving search (rather than by the teacher's soft targets)."""
        return self.temperature == "auto" and self.temperature_method == "halving"

    @property
    def auto_soft_weight(self) -> bool:
        return self.soft_weight == "auto"

    def baseline_update(self) -> dict:
        """The same run on labels alone: no distillation part, so no weight to set and no temperature to search
        for. The one rule for a job's baseline run and a sweep's baseline member."""
        return {"soft_weight": 0.0, "hard_weight": 1.0,
                **({"temperature": 1.0, "validation_folds": 1} if self.auto_temperature else {})}

    @property
    def augmenting(self) -> bool:
        return self.augmentation is not None and self.augmentation.active

    @model_validator(mode="after")
    def _weights(self) -> "DistillConfig":
        if self.soft_weight == 0 and self.hard_weight == 0:
            raise ValueError("soft_weight and hard_weight are both 0: at least one loss term must count")
        if self.halving:
            self.temperature_search()  # raises ValueError saying what to change
        elif self.validation_folds > 1:
            raise ValueError("validation_folds scores the candidates of temperature \"auto\" with "
                             "temperature_method 'halving': set temperature to \"auto\" and temperature_method "
                             "to 'halving', or validation_folds to 1")
        grid = self.temperature_grid
        if self.temperature == "auto" and len({f"{t:g}" for t in grid}) != len(grid):
            raise ValueError(f"temperature_grid {grid} repeats a value; give each temperature once")
        if self.soft_weight == "auto" and self.hard_weight == 0:
            raise ValueError("soft_weight \"auto\" sets the soft weight against the hard term's gradient, and "
                             "hard_weight is 0: give hard_weight a weight, or soft_weight a number")
        if self.warmup_epochs >= self.epochs and self.warmup_epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be fewer than epochs ({self.epochs})")
        if self.devices > 1:
            self._one_run_on_devices()
        return self

    def _one_run_on_devices(self) -> None:
        """What several devices do not train: each of these would need every rank to agree, step by step, on
        something decided from one rank's data, or runs a teacher (a sandboxed process) per rank."""
        refused = {
            "temperature \"auto\"": self.auto_temperature, "soft_weight \"auto\"": self.auto_soft_weight,
            "augmentation": self.augmenting, "compile": self.compile,
        }
        names = [name for name, on in refused.items() if on]
        if names:
            raise ValueError(f"devices {self.devices} does not combine with {', '.join(names)}: set devices to 1, "
                             f"or turn {', '.join(names)} off")

    def __new__(cls, *args, **data):
        if cls is DistillConfig:  # the method's own class; Python then runs that class's __init__
            cls = METHOD_CONFIGS.get(data.get("loss", "kd"), DistillConfig)
        return super().__new__(cls)

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        if cls is DistillConfig:
            return _METHOD_ADAPTER.validate_python(obj, *args, **kwargs)
        return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def method_parameters(cls) -> list[str]:
        """The parameters this method adds to the shared ones: what a sweep may vary besides them."""
        return [k for k in cls.model_fields if k not in DistillConfig.model_fields]


class KDConfig(DistillConfig):
    loss: Literal["kd"] = "kd"
    logit_standardization: bool = Field(
        False, description="z-score the student's and teacher's logits per sample before the temperature "
        "softmax (Sun et al. 2024): the student matches the teacher's logit shape, not its scale.")


class LogitMatchingConfig(DistillConfig):
    loss: Literal["logit_matching"] = "logit_matching"

    @model_validator(mode="after")
    def _no_temperature(self) -> "LogitMatchingConfig":
        if self.temperature == "auto":
            raise ValueError("logit_matching compares logits, with no temperature to search: give temperature a "
                             "number, or choose another loss")
        return self


class DKDConfig(DistillConfig):
    """Defaults from the paper's and mdistiller's CIFAR-100 settings: T = 4, alpha = 1, beta = 8, and the
    cross-entropy and distillation parts at weight 1."""

    loss: Literal["dkd"] = "dkd"
    temperature: TemperatureOrAuto = Field(
        4.0, description="Softmax temperature T of TCKD and NCKD, or \"auto\".")
    soft_weight: WeightOrAuto = Field(
        1.0, description="Weight a of the distillation part (TCKD and NCKD), or \"auto\" (see kd).")
    hard_weight: float = Field(1.0, ge=0, description="Weight b of the hard-label term.")
    alpha: float = Field(1.0, ge=0, le=1000, description="Weight of the target-class term TCKD.")
    beta: float = Field(8.0, ge=0, le=1000, description="Weight of the non-target-class term NCKD.")
    distillation_warmup_epochs: int | None = Field(
        None, ge=0, description="The distillation part's weight grows linearly to full over this many first "
        "epochs (epoch e of W: e/W). None: the paper's share, 20 of 240 epochs (at least 1); 0: no warm-up.")
    logit_standardization: bool = Field(False, description="As for 'kd' (Sun et al. 2024).")

    @property
    def warmup(self) -> int:
        if self.distillation_warmup_epochs is not None:
            return self.distillation_warmup_epochs
        return max(1, round(self.epochs * 20 / 240))

    @model_validator(mode="after")
    def _dkd(self) -> "DKDConfig":
        if self.alpha == 0 and self.beta == 0 and self.soft_weight != 0:
            raise ValueError("alpha and beta are both 0: the distillation part would be empty; set soft_weight "
                             "to 0 instead, or give alpha or beta a weight")
        if (self.distillation_warmup_epochs or 0) > self.epochs:
            raise ValueError(f"distillation_warmup_epochs ({self.distillation_warmup_epochs}) is more than epochs "
                             f"({self.epochs}): the distillation part would never reach its full weight")
        return self


class DISTConfig(DistillConfig):
    """Defaults from torchdistill's DISTLoss and the paper's ImageNet setting: T = 1, both relations at
    weight 1. The paper's beta and gamma are ``inter_weight`` and ``intra_weight`` here: ``gamma`` already
    names the step schedule's decay."""

    loss: Literal["dist"] = "dist"
    temperature: TemperatureOrAuto = Field(
        1.0, description="Softmax temperature T of both relations, or \"auto\".")
    soft_weight: WeightOrAuto = Field(
        1.0, description="Weight a of the distillation part (both relations), or \"auto\" (see kd).")
    hard_weight: float = Field(1.0, ge=0, description="Weight b of the hard-label term.")
    inter_weight: float = Field(1.0, ge=0, le=1000, description="The paper's beta: weight of the inter-class "
                                "relation, 1 − Pearson correlation of each sample's class probabilities.")
    intra_weight: float = Field(1.0, ge=0, le=1000, description="The paper's gamma: weight of the intra-class "
                                "relation, 1 − Pearson correlation of each class's probabilities over the batch.")

    @model_validator(mode="after")
    def _dist(self) -> "DISTConfig":
        if self.inter_weight == 0 and self.intra_weight == 0 and self.soft_weight != 0:
            raise ValueError("inter_weight and intra_weight are both 0: the distillation part would be empty; "
                             "set soft_weight to 0 instead")
        return self


METHOD_CONFIGS: dict[str, type[DistillConfig]] = {
    "kd": KDConfig, "logit_matching": LogitMatchingConfig, "dkd": DKDConfig, "dist": DISTConfig}

def _method_of(value) -> str:
    return value.get("loss", "kd") if isinstance(value, dict) else getattr(value, "loss", "kd")


# The job request's hyperparameters: one object per method, told apart by ``loss`` (``kd`` when absent).
MethodConfig = Annotated[
    Annotated[KDConfig, Tag("kd")] | Annotated[LogitMatchingConfig, Tag("logit_matching")]
    | Annotated[DKDConfig, Tag("dkd")] | Annotated[DISTConfig, Tag("dist")],
    Discriminator(_method_of),
]
_METHOD_ADAPTER: TypeAdapter = TypeAdapter(MethodConfig)


MAX_SWEEP_MEMBERS = 32
RUN_NAME_CHARS = 64  # the runs table's name column


class _SweepGrid(BaseModel):
    """A grid over the loss settings; every combination is one member, trained on the same cached
    teacher outputs. Its axes are the shared weights and temperature and every method's own numeric
    parameters (a member must be of a method that has the parameter)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="after")
    def _grid(self) -> "_SweepGrid":
        axes = self.axes()
        if not axes and not self.students:
            raise ValueError(f"a sweep needs at least one of students, {', '.join(SWEEP_AXES)}")
        size = len(self.students or [None])
        for values in axes.values():
            size *= len(values)
        if size > MAX_SWEEP_MEMBERS:
            raise ValueError(f"the sweep has {size} members; at most {MAX_SWEEP_MEMBERS} are allowed")
        # Members are told apart by name (runs, metrics, the best member): two values that print alike
        # would train the same member twice and mix up their results.
        for key, values in axes.items():
            names: dict[str, float] = {}
            for v in values:
                shown = _value_name(key, v)
                if shown in names:
                    same = "appears twice" if names[shown] == v else f"and {names[shown]!r} both read as {shown!r}"
                    raise ValueError(f"{key} value {v!r} {same}; give each value once, distinct at 6 digits")
                names[shown] = v
        self._distinct_students()
        return self

    def _distinct_students(self) -> None:
        students = self.students or []
        for i, student in enumerate(students):
            if student in students[:i]:
                raise ValueError(f"students {students.index(student)} and {i} are the same student; give each once")
        if students and (long := [n for n in self.names() if len(n) > RUN_NAME_CHARS]):
            raise ValueError(f"the member name {long[0]!r} is longer than {RUN_NAME_CHARS} characters; sweep "
                             "fewer settings together with the students")

    def axes(self) -> dict[str, list[float]]:
        return {k: v for k in SWEEP_AXES if (v := getattr(self, k))}

    def members(self, base: DistillConfig) -> list[tuple[str, DistillConfig]]:
        """(name, config) for every combination; raises ValueError naming a member that is invalid."""
        import itertools

        axes = self.axes()
        if base.auto_temperature and "temperature" not in axes:
            raise ValueError("temperature \"auto\" is a search of its own: give the job a numeric temperature to "
                             "sweep the other settings, or sweep temperature")
        if base.devices > 1:  # members are many small runs: they spread over workers, not over devices
            raise ValueError(f"a sweep trains each member on one device (its members run in parallel on several "
                             f"workers): set hyperparameters.devices to 1, not {base.devices}")
        foreign = [k for k in axes if k not in type(base).model_fields]
        if foreign:
            own = [k for k in type(base).method_parameters() if k in SWEEP_AXES]
            raise ValueError(f"{', '.join(foreign)} is not a parameter of loss {base.loss!r}; sweep temperature, "
                             f"soft_weight, hard_weight{''.join(', ' + k for k in own)}")
        configs = []
        for combo in itertools.product(*axes.values()):
            update = dict(zip(axes, combo, strict=True))
            configs.append(DistillConfig.model_validate({**base.model_dump(), **update}))
        return list(zip(self.names(), configs * len(self.students or [None]), strict=True))

    def names(self) -> list[str]:
        """The members' names, students outermost, e.g. "sweep student=mlp 64-64 T=2"."""
        import itertools

        axes = self.axes()
        settings = [" ".join(_value_name(k, v) for k, v in zip(axes, combo, strict=True))
                    for combo in itertools.product(*axes.values())]
        students = [f"student={label}" for label in student_labels(self.students)] if self.students else [""]
        return [" ".join(p for p in ("sweep", s, t) if p) for s in students for t in settings]

    def member_students(self) -> dict[str, StudentSpec]:
        """Each member's own student, by name; empty when every member trains the job's student."""
        if not self.students:
            return {}
        per_student = len(self.names()) // len(self.students)
        return {name: self.students[i // per_student] for i, name in enumerate(self.names())}


# The shared axes first, then every method's numeric parameters, in registry order.
SWEEP_AXES: tuple[str, ...] = ("temperature", "soft_weight", "hard_weight", *dict.fromkeys(
    k for c in METHOD_CONFIGS.values() for k in c.method_parameters()
    if c.model_fields[k].annotation in (float, int)))

SweepSpec = create_model(
    "SweepSpec", __base__=_SweepGrid, __doc__=_SweepGrid.__doc__,
    students=(list[StudentSpec] | None, Field(None, min_length=MIN_STUDENTS, max_length=MAX_STUDENTS, description=(
        "Students to train, each member its own (crossed with the other axes); with a job budget, the most "
        "accurate within it is the student."))),
    **{k: (list[float] | None, Field(None, min_length=1, description=(
        "Temperatures to try, e.g. [1, 2, 5]." if k == "temperature" else None) or (
        None if k in ("soft_weight", "hard_weight") else
        f"Values of {k} (loss {', '.join(repr(n) for n, c in METHOD_CONFIGS.items() if k in c.model_fields)})."
    ))) for k in SWEEP_AXES})


def _value_name(key: str, value: float) -> str:
    return f"{'T' if key == 'temperature' else key}={value:g}"
