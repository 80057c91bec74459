"""The hyperparameters of one distillation run.

Pure pydantic, no torch: the API validates a job's ``hyperparameters`` with this same class,
so the rules (and the 422 messages naming the field) live in one place.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Augmentation(BaseModel):
    """Training-only augmentation of image inputs [C, H, W]; evaluation never augments. Turns the
    teacher-output cache off for training: the teacher runs on each augmented batch."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    random_crop_padding: int = Field(0, ge=0, le=64, description="Pad by this many pixels, crop back at random.")
    horizontal_flip: bool = Field(False, description="Flip half the images left-right.")

    @property
    def active(self) -> bool:
        return bool(self.random_crop_padding or self.horizontal_flip)


class DistillConfig(BaseModel):
    # Infinity and NaN (which Python's JSON parser reads) are no hyperparameters: refused, not trained on.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    loss: Literal["kd", "logit_matching"] = Field(
        "kd", description="'kd': a·T²·KL(q‖p) + b·CE; 'logit_matching': a·MSE(z, v) + b·CE (Caruana)."
    )
    temperature: float = Field(2.0, gt=0, le=1000, description="Softmax temperature T of the soft term.")
    soft_weight: float = Field(0.5, ge=0, description="Weight a of the soft term.")
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

    @property
    def augmenting(self) -> bool:
        return self.augmentation is not None and self.augmentation.active

    @model_validator(mode="after")
    def _weights(self) -> "DistillConfig":
        if self.soft_weight == 0 and self.hard_weight == 0:
            raise ValueError("soft_weight and hard_weight are both 0: at least one loss term must count")
        if self.warmup_epochs >= self.epochs and self.warmup_epochs:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be fewer than epochs ({self.epochs})")
        return self


MAX_SWEEP_MEMBERS = 32


class SweepSpec(BaseModel):
    """A grid over the loss settings; every combination is one member, trained on the same cached
    teacher outputs. The member with the best validation accuracy becomes the job's student."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    temperature: list[float] | None = Field(None, min_length=1, description="Temperatures to try, e.g. [1, 2, 5].")
    soft_weight: list[float] | None = Field(None, min_length=1)
    hard_weight: list[float] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _grid(self) -> "SweepSpec":
        axes = self.axes()
        if not axes:
            raise ValueError("a sweep needs at least one of temperature, soft_weight, hard_weight")
        size = 1
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
        return self

    def axes(self) -> dict[str, list[float]]:
        return {k: v for k in ("temperature", "soft_weight", "hard_weight") if (v := getattr(self, k))}

    def members(self, base: DistillConfig) -> list[tuple[str, DistillConfig]]:
        """(name, config) for every combination; raises ValueError naming a member that is invalid."""
        import itertools

        axes = self.axes()
        out = []
        for combo in itertools.product(*axes.values()):
            update = dict(zip(axes, combo, strict=True))
            name = "sweep " + " ".join(_value_name(k, v) for k, v in update.items())
            out.append((name, DistillConfig.model_validate({**base.model_dump(), **update})))
        return out


def _value_name(key: str, value: float) -> str:
    return f"{'T' if key == 'temperature' else key}={value:g}"
