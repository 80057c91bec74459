"""A sweep over students: what each student is called in its members' names.

Members are told apart by name (runs, metrics, the best member), and a run's name has at most 64 characters,
so a student's label is short: its arch and sizes, never the whole spec. Students whose labels would read
alike are numbered by their place in ``sweep.students``.
"""

from models.specs import AnySpec

LABEL_CHARS = 24  # a longer label (an MLP of many layers) gives way to "<arch> #<place>"
MIN_STUDENTS, MAX_STUDENTS = 2, 8


def _sizes(sizes: list[int]) -> str:
    return "-".join(str(s) for s in sizes) or "linear"


def _label(spec: AnySpec) -> str:
    if spec.arch == "mlp":
        return f"mlp {_sizes(spec.hidden_sizes)}"
    if spec.arch == "cnn":
        return f"cnn {_sizes(spec.channels)} k{spec.kernel_size}"
    if spec.arch == "embedding_bag":
        return f"embedding_bag d{spec.embedding_dim} {_sizes(spec.hidden_sizes)}"
    return spec.arch


def student_labels(students: list[AnySpec]) -> list[str]:
    """One short, distinct label per student, in their order (the caller refuses identical students)."""
    labels = [_label(s) for s in students]
    labels = [label if len(label) <= LABEL_CHARS else f"{s.arch} #{i + 1}"
              for i, (label, s) in enumerate(zip(labels, students, strict=True))]
    return [label if labels.count(label) == 1 else f"{label} #{i + 1}" for i, label in enumerate(labels)]
