"""A job's hyperparameters: the method's config (``models/methods/``, one module a method, each with its
parameters and its loss) and the sweep over them.

Pure pydantic for the request: the API validates a job's ``hyperparameters`` and ``sweep`` with these same
classes, so the rules (and the 422 messages naming the field) live in one place.
"""

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from models.methods import CONFIGS as METHOD_CONFIGS
from models.methods import METHODS, MethodConfig
from models.methods.dkd import DKDConfig
from models.methods.kd import KDConfig
from models.methods.settings import Augmentation, DistillConfig
from models.specs import StudentSpec
from models.student_sweep import MAX_STUDENTS, MIN_STUDENTS, student_labels

__all__ = ["METHODS", "METHOD_CONFIGS", "Augmentation", "DKDConfig", "DistillConfig", "KDConfig", "MethodConfig",
           "SweepSpec"]


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
