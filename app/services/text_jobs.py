"""What a job with a text teacher or a text transfer set must satisfy, checked at submit (app/routes/jobs.py):
texts need a Hugging Face teacher (its tokenizer makes the ids), label names must be the teacher's id2label
names, ensemble teachers share one tokenizer, a text student (transformer, bilstm) needs a text teacher, and
its exports are the formats a text student has. Each refusal is a 422 naming the field."""

from app.problems import invalid
from models.text.students import TEXT_ARCHS, text_student_parameters

HF = "huggingface"
TEXT_EXPORTS = ("huggingface", "onnx", "safetensors")  # what a transformer text student is exported as
BILSTM_EXPORTS = ("onnx", "safetensors")


def is_text_job(teachers) -> bool:
    return teachers[0].format == HF


def check_teachers(body, teachers) -> None:
    first = teachers[0]
    for i, t in enumerate(teachers[1:], start=1):
        if (t.format == HF) != (first.format == HF):
            raise invalid("ensemble teachers must all be Hugging Face text models, or none", field=f"teacher_ids.{i}",
                          kind="incompatible-teachers")
        if t.format == HF and (t.arch_config["tokenizer_sha256"], t.arch_config["max_length"]) != (
                first.arch_config["tokenizer_sha256"], first.arch_config["max_length"]):
            raise invalid(f"ensemble text teachers must share one tokenizer and max_length: {t.id}'s tokenizer.json "
                          f"or max_length differs from {first.id}'s", field=f"teacher_ids.{i}",
                          kind="incompatible-teachers")
    arch = body.student.arch
    if arch in TEXT_ARCHS and first.format != HF:
        raise invalid(f"student arch {arch!r} is a text student over a Hugging Face teacher's token ids, and teacher "
                      f"{first.id} is a {first.format} model: upload the teacher with format=huggingface, or pick "
                      "another arch", field="student.arch", kind="incompatible-student")


def check_text_set(ts, teachers, field: str) -> None:
    """A transfer set of raw texts with these teachers."""
    first = teachers[0]
    if first.format != HF:
        raise invalid(f"transfer set {ts.id} holds raw texts, and teacher {first.id} is a {first.format} model, not "
                      "a text model: texts are tokenized with a Hugging Face teacher's tokenizer, so upload the "
                      "teacher with format=huggingface (or upload token ids as an .npz)", field=field,
                      kind="incompatible-transfer-set")
    names = first.arch_config["class_names"]
    if ts.class_names:
        unknown = [n for n in ts.class_names if n not in names]
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5])
            raise invalid(f"transfer set {ts.id} has labels {shown} that are not among teacher {first.id}'s classes "
                          f"(config.json's id2label: {', '.join(names[:20])}); relabel the rows with those names, or "
                          "with class indices", field=field, kind="incompatible-transfer-set")
    elif ts.num_classes is not None and ts.num_classes > first.num_classes:
        raise invalid(f"transfer set {ts.id} has labels up to {ts.num_classes - 1}, but the teacher has only "
                      f"{first.num_classes} classes (0..{first.num_classes - 1})", field=field,
                      kind="incompatible-transfer-set")


def check_student(body, teachers, settings) -> None:
    """A text student's size and init, and its export formats (the default becomes the text formats)."""
    first = teachers[0]
    spec = body.student
    if spec.arch not in TEXT_ARCHS:
        return
    text = first.arch_config
    parameters = student_parameters(body, first)
    limit = settings.max_student_parameters
    if parameters > limit:
        raise invalid(f"this {spec.arch} would have {parameters:,} parameters with the teacher's vocabulary of "
                      f"{text['vocab_size']:,} tokens, more than the limit of {limit:,} "
                      "(DISTILLERY_MAX_STUDENT_PARAMETERS); make it smaller", field="student",
                      kind="student-too-large")
    if getattr(spec, "init", "random") == "teacher":
        if text.get("model_type") != "bert":
            raise invalid(f"init 'teacher' copies a BERT teacher's layers, and teacher {first.id} is "
                          f"{text.get('model_type')!r}: use init 'random'", field="student.init",
                          kind="incompatible-student")
        for name, ours in (("hidden_size", spec.hidden_size), ("num_layers", spec.layers)):
            theirs = text.get(name)
            if theirs is not None and (ours > theirs if name == "num_layers" else ours != theirs):
                what = "at most the teacher's" if name == "num_layers" else "the teacher's"
                raise invalid(f"init 'teacher' needs {what} {name} ({theirs}); the student has {ours}",
                              field="student.init", kind="incompatible-student")
    if body.bias_correction:
        raise invalid("bias_correction is not made for text students yet: drop it", field="bias_correction")
    allowed = TEXT_EXPORTS if spec.arch == "transformer" else BILSTM_EXPORTS
    if "export_formats" not in body.model_fields_set:
        body.export_formats = list(allowed)
        return
    refused = [f for f in body.export_formats if f not in allowed]
    if refused:
        raise invalid(f"a {spec.arch} text student is exported as {', '.join(allowed)}; not as {', '.join(refused)}",
                      field="export_formats", kind="incompatible-student")


def check_not_text_exports(body) -> None:
    if "huggingface" in body.export_formats and body.student.arch != "transformer":
        raise invalid("the huggingface export is for a transformer text student (a Hugging Face teacher and "
                      "student arch 'transformer')", field="export_formats", kind="incompatible-student")


def student_parameters(body, teacher) -> int:
    from models.zoo import text_positions

    text = teacher.arch_config
    return text_student_parameters(body.student, vocab_size=text["vocab_size"], num_labels=teacher.num_classes,
                                   max_positions=text_positions(text))
