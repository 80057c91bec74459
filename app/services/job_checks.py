"""Every reason a job could not run that is knowable at submit, each a 422 naming the field to change: the
teachers and sets it names (owned by the tenant, agreeing on shapes, dtypes and classes), the hyperparameters
that depend on them, the students' sizes (computed from their specs, never by building them), initial weights
and the webhook address. Text jobs add their own rules (``app.services.text_jobs``)."""

from sqlalchemy.orm import Session

from app.problems import invalid
from app.schemas import JobCreate
from app.scoping import owned
from app.services import text_jobs
from core.config import Settings
from core.store import ArtifactStore
from core.tables import Teacher, TransferSet
from core.webhook_addresses import url_problem
from models.input_dtypes import accepts
from models.sizing import NetworkTooLarge, check_network_size
from models.text.students import TEXT_ARCHS
from models.zoo import build_student, check_input_dtype, load_state_dict_into


def check_job(*, session: Session, store: ArtifactStore, settings: Settings, tenant: str,
              body: JobCreate) -> list[Teacher]:
    """Every reason a job could not run that is knowable now is a 422 naming the field."""
    teachers = []
    for i, tid in enumerate(body.teacher_ids):
        teacher = owned(session, Teacher, tid, tenant)
        if teacher is None:
            raise invalid(f"teacher {tid!r} does not exist; upload it with POST /v1/teachers",
                          field=f"teacher_ids.{i}", kind="unknown-reference")
        teachers.append(teacher)
    first = teachers[0]
    for i, t in enumerate(teachers[1:], start=1):
        if t.input_shape != first.input_shape or t.num_classes != first.num_classes:
            raise invalid(
                f"ensemble teachers must agree on input shape and classes: {first.id} takes {first.input_shape} "
                f"with {first.num_classes} classes, {t.id} takes {t.input_shape} with {t.num_classes}",
                field=f"teacher_ids.{i}", kind="incompatible-teachers")
        if (t.input_dtype or "float32") != (first.input_dtype or "float32"):
            raise invalid(f"ensemble teachers must take the same input dtype: {first.id} takes {first.input_dtype}, "
                          f"{t.id} takes {t.input_dtype}", field=f"teacher_ids.{i}", kind="incompatible-teachers")
    text_jobs.check_teachers(body, teachers)
    hp = body.hyperparameters
    sets = {"transfer_set_id": body.transfer_set_id}
    if body.validation_transfer_set_id:
        sets["validation_transfer_set_id"] = body.validation_transfer_set_id
    for field, ts_id in sets.items():
        ts = owned(session, TransferSet, ts_id, tenant)
        if ts is None:
            raise invalid(f"transfer set {ts_id!r} does not exist; create it with POST /v1/transfer-sets",
                          field=field, kind="unknown-reference")
        if ts.kind == "text":  # raw texts: the teacher's tokenizer makes them ids shaped as it takes
            text_jobs.check_text_set(ts, teachers, field)
        elif ts.sample_shape != first.input_shape:
            raise invalid(f"transfer set {ts_id} has samples shaped {ts.sample_shape}, but the teacher takes "
                          f"{first.input_shape}", field=field, kind="incompatible-transfer-set")
        elif not accepts(first.input_dtype or "float32", ts.dtype or "float32"):
            raise invalid(f"transfer set {ts_id} holds {ts.dtype} samples, but teacher {first.id} takes "
                          f"{first.input_dtype} inputs (its input_dtype); upload the set with {first.input_dtype} "
                          "inputs, or the teacher with the input_dtype its data has",
                          field=field, kind="incompatible-transfer-set")
        elif ts.num_classes is not None and ts.num_classes > first.num_classes:
            raise invalid(f"transfer set {ts_id} has labels up to {ts.num_classes - 1}, but the teacher has only "
                          f"{first.num_classes} classes (0..{first.num_classes - 1})",
                          field=field, kind="incompatible-transfer-set")
        if field == "validation_transfer_set_id" and not ts.labelled:
            raise invalid(f"validation set {ts_id} has no labels; validation needs them", field=field)
        if field == "transfer_set_id" and not ts.labelled:
            if hp.hard_weight > 0:
                raise invalid(f"transfer set {ts_id} has no labels, so there is no hard loss: set "
                              "hard_weight to 0", field="hyperparameters.hard_weight")
            if body.baseline:
                raise invalid("a baseline trains on labels, and this transfer set has none", field="baseline")
            if body.omit_classes:
                raise invalid("omit_classes needs a labelled transfer set", field="omit_classes")
    bad = [c for c in body.omit_classes if c >= first.num_classes]
    if bad:
        raise invalid(f"omit_classes {bad} are not classes of the teacher (0..{first.num_classes - 1})",
                      field="omit_classes")
    if len(body.omit_classes) >= first.num_classes:
        raise invalid("omit_classes leaves no class to train on", field="omit_classes")
    if body.sweep is not None:
        try:
            body.sweep.members(hp)
        except ValueError as exc:
            raise invalid(f"a sweep member is invalid: {exc}", field="sweep") from None
    if hp.augmenting and len(first.input_shape) != 3:
        raise invalid(f"augmentation needs image inputs shaped [C, H, W]; the teacher takes {first.input_shape}",
                      field="hyperparameters.augmentation")
    if body.validation_transfer_set_id and hp.auto_temperature and hp.validation_folds > 1:
        raise invalid("validation_folds splits the transfer set into folds, and this job brings its own "
                      "validation set: drop validation_folds or validation_transfer_set_id",
                      field="hyperparameters.validation_folds")
    if body.bias_correction and not body.omit_classes:
        raise invalid("bias_correction applies to omitted classes: set omit_classes too", field="bias_correction")
    # The student's size is computed from its spec, never by building it: a spec too large to build is
    # refused in microseconds, with no memory spent.
    text_jobs.check_student(body, teachers, settings)
    text_jobs.check_not_text_exports(body)
    for where, student in students_of(body):
        try:
            check_input_dtype(student.arch, first.input_dtype or "float32")
            if student.arch not in TEXT_ARCHS:  # a text student's size depends on the teacher's vocabulary
                check_network_size(student, first.input_shape, first.num_classes, settings)
        except NetworkTooLarge as exc:
            field = exc.field.replace("student", where, 1) if exc.field.startswith("student") else "teacher_ids.0"
            raise invalid(str(exc), field=field, kind="student-too-large") from None
        except ValueError as exc:
            raise invalid(str(exc), field=where, kind="incompatible-student") from None
    if body.student_init_weights:
        student = build_student(body.student, first.input_shape, first.num_classes, first.input_dtype or "float32",
                                text=first.arch_config if first.format == "huggingface" else None)
        _check_init_weights(session, store, body.student_init_weights, student, tenant)
    if body.webhook_url and (problem := url_problem(body.webhook_url, settings.webhook_allow_private)):
        raise invalid(str(problem), field="webhook_url", kind="webhook-url-refused")
    return teachers


def students_of(body: JobCreate) -> list[tuple[str, object]]:
    """(field, spec) of every student the job trains: the sweep's students where it names them."""
    students = (body.sweep.students if body.sweep else None) or []
    return [(f"sweep.students.{i}", s) for i, s in enumerate(students)] or [("student", body.student)]


def _check_init_weights(session: Session, store: ArtifactStore, network_id: str, student, tenant: str) -> None:
    network = owned(session, Teacher, network_id, tenant)
    field = "student_init_weights"
    if network is None:
        raise invalid(f"network {network_id!r} does not exist; upload the weights with POST /v1/teachers "
                      "(format safetensors)", field=field, kind="unknown-reference")
    if network.format != "safetensors":
        raise invalid(f"initial weights must be a safetensors state dict; {network_id} is {network.format}",
                      field=field)
    try:
        load_state_dict_into(student, store.open_local(network.artifact.key, network.artifact.sha256))
    except ValueError as exc:
        raise invalid(f"the weights of {network_id} do not fit the student: {exc}", field=field) from None
