"""The settings every distillation method shares, validated by pydantic.

The API validates a job's ``hyperparameters`` with these same classes, so the rules (and the 422 messages
naming the field) live in one place. A method's own parameters are in its module beside its loss
(``models/methods/<method>.py``); ``DistillConfig(...)`` gives the class of the ``loss`` it names.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, WrapValidator, model_validator

from models.methods import registry


class Augmentation(BaseModel):
    """Training-only augmentation of image inputs [C, H, W]; evaluation never augments. Turns the
    teacher-output cache off for training: the teacher runs on each augmented batch."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    random_crop_padding: int = Field(0, ge=0, le=64, description="Pad by this many pixels, crop back at random.")
    horizontal_flip: bool = Field(False, description="Flip half the images left-right.")

    @property
    def active(self) -> bool:
        return bool(self.random_crop_padding or self.horizontal_flip)


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
    method's own subclass, chosen by ``loss`` (the default method when absent), so each method validates its own
    parameters and refuses another method's; :data:`MethodConfig` is the same choice as a type."""

    # Infinity and NaN (which Python's JSON parser reads) are no hyperparameters: refused, not trained on.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    loss: str = Field(description="The method; each method's own class narrows it to its name "
                      "(models/methods/, one module a method).")
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
            cls = registry.CONFIGS.get(data.get("loss", registry.default()), DistillConfig)
        return super().__new__(cls)

    @classmethod
    def model_validate(cls, obj, *args, **kwargs):
        if cls is DistillConfig:
            return registry.adapter().validate_python(obj, *args, **kwargs)
        return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def method_parameters(cls) -> list[str]:
        """The parameters this method adds to the shared ones: what a sweep may vary besides them."""
        return [k for k in cls.model_fields if k not in DistillConfig.model_fields]
