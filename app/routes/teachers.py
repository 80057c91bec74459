import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import ValidationError
from sqlalchemy import select

from app.auth import TenantDep
from app.check_slots import check_slot
from app.deps import SessionDep, SettingsDep, StoreDep
from app.problems import ERROR_RESPONSES, Problem, ProblemDetail, invalid
from app.quotas import check_storage
from app.schemas import TeacherList, TeacherPublic
from app.scoping import Limit, Offset, fetch_owned, page
from app.services.hf_teachers import MAX_LENGTH_HELP, create_hf_teacher, parse_max_length
from app.services.kept_uploads import keep_upload
from core.ids import new_id
from core.sandbox_choice import sandbox_mode
from core.tables import JobTeacher, Teacher
from models.input_dtypes import DEFAULT_INPUT_DTYPE, INPUT_DTYPES
from models.inspection import ModelRefused
from models.json_bounds import MAX_JSON_DEPTH, JSONTooDeep, check_depth
from models.safe_text import SafeStr, text_problem
from models.sandbox.jail import SandboxUnavailable
from models.sandbox.remote import SANDBOXED_FORMATS, probe_in_sandbox
from models.sizing import NetworkTooLarge, check_input, check_network_size
from models.specs import ARCHS
from models.teacher_outputs import OUTPUT_KINDS
from models.teachers import FORMATS, TEACHER_SUFFIXES, TeacherInvalid, parse_arch_config

router = APIRouter(prefix="/teachers", tags=["teachers"], responses=ERROR_RESPONSES)

MAX_INPUT_DIMS = 4


def to_public(t: Teacher, settings) -> TeacherPublic:
    return TeacherPublic(
        id=t.id, name=t.name, format=t.format, input_shape=t.input_shape, num_classes=t.num_classes,
        arch=t.arch, arch_config=t.arch_config, fixed_batch_size=t.fixed_batch,
        output=t.output, output_kind=t.output_kind or "logits", input_dtype=t.input_dtype or "float32",
        sha256=t.artifact.sha256, size_bytes=t.artifact.size_bytes,
        created_at=t.created_at,
        sandbox=sandbox_mode(settings) if t.format in SANDBOXED_FORMATS else None,
    )


def parse_input_shape(raw: str, max_depth: int = MAX_JSON_DEPTH) -> list[int]:
    try:
        check_depth(raw, max_depth)
        shape = json.loads(raw)
    except (json.JSONDecodeError, JSONTooDeep):
        shape = None
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= MAX_INPUT_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 65536 for d in shape)
    ):
        raise invalid(
            f"input_shape must be a JSON list of 1 to {MAX_INPUT_DIMS} positive integers giving one "
            f"sample's shape without the batch dimension, e.g. [64] or [3, 32, 32]; got {raw[:100]!r}",
            field="input_shape",
        )
    return shape


def check_sizes(shape: list[int], fmt: str, arch: str | None, config: dict | None, settings) -> None:
    """Bounds on the input and, for a state dict, on the network the zoo would build: checked from the spec,
    before anything is built or run."""
    try:
        check_input(shape, None, settings)
        if fmt == "safetensors" and arch in ARCHS and "arch" not in (config or {}):
            spec = {k: v for k, v in (config or {}).items() if k != "num_classes"}
            classes = (config or {}).get("num_classes", 1000 if arch not in ("mlp", "cnn") else None)
            if isinstance(classes, int) and not isinstance(classes, bool) and classes >= 2:
                check_network_size({"arch": arch, **spec}, shape, classes, settings, field="arch_config")
    except NetworkTooLarge as exc:
        field = exc.field if exc.field == "input_shape" else "arch_config"
        raise invalid(str(exc), field=field, kind="invalid-teacher") from None
    except (ValueError, ValidationError):
        pass  # a spec the zoo cannot build: build_from_arch says why


@router.post("", status_code=201, response_model=TeacherPublic, responses={413: {"model": ProblemDetail}})
def create_teacher(
    tenant: TenantDep,
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The teacher network.")],
    name: Annotated[SafeStr, Form(min_length=1, max_length=200)],
    input_shape: Annotated[str | None, Form(description="JSON list: one sample's shape, e.g. [64]. Required, "
                                            "except for huggingface (token ids [max_length]).")] = None,
    format: Annotated[str, Form(description=f"One of: {', '.join(FORMATS)}.")] = "torchscript",
    arch: Annotated[str | None, Form(description="safetensors only: the zoo architecture of the state dict.")] = None,
    arch_config: Annotated[
        str | None, Form(description='safetensors only: JSON, e.g. {"num_classes": 10, "hidden_sizes": [256]}.')
    ] = None,
    output: Annotated[str | None, Form(
        max_length=200, description="The output to distil from: its ONNX name (e.g. 'probabilities') or its "
        "index. Default: the one float output shaped [batch, classes].")] = None,
    output_kind: Annotated[str, Form(description=f"One of: {', '.join(OUTPUT_KINDS)}. 'auto' decides from the "
                                     "probe batches (rows that are distributions are probabilities).")] = "auto",
    input_dtype: Annotated[str, Form(description=f"One of: {', '.join(INPUT_DTYPES)}: what the teacher takes "
                                     "(int64 for token or category ids).")] = DEFAULT_INPUT_DTYPE,
    max_length: Annotated[str | None, Form(description="huggingface only: " + MAX_LENGTH_HELP + ".")] = None,
) -> TeacherPublic:
    """Upload a teacher. Its file is checked, then loaded and run on zero batches in the sandbox, before
    anything is stored."""
    if format not in FORMATS:
        raise invalid(f"unknown teacher format {format!r}; supported: {', '.join(FORMATS)}", field="format")
    if format == "huggingface":
        return _create_huggingface(session, store, settings, tenant, file, name, input_shape, arch, arch_config,
                                   output, output_kind, input_dtype, max_length)
    if max_length is not None:
        raise invalid("max_length is for huggingface teachers; other teachers take input_shape", field="max_length")
    if input_shape is None:
        raise invalid("input_shape is required: a JSON list giving one sample's shape, e.g. [64]",
                      field="input_shape")
    shape = parse_input_shape(input_shape, settings.max_json_depth)
    if output_kind not in OUTPUT_KINDS:
        raise invalid(f"unknown output_kind {output_kind!r}; use one of: {', '.join(OUTPUT_KINDS)}",
                      field="output_kind")
    if input_dtype not in INPUT_DTYPES:
        raise invalid(f"unknown input_dtype {input_dtype!r}; use one of: {', '.join(INPUT_DTYPES)}",
                      field="input_dtype")
    if output is not None and (output.strip() == "" or text_problem(output)):
        raise invalid("'output' must name one of the teacher's outputs, or give its index", field="output")
    if format == "safetensors":
        if not arch:
            raise invalid("a safetensors teacher is a state dict: name its architecture in 'arch' and its "
                          "settings in 'arch_config'", field="arch")
        try:
            check_depth(arch_config or "", settings.max_json_depth)
            config = parse_arch_config(arch_config)
        except (TeacherInvalid, JSONTooDeep) as exc:
            raise invalid(str(exc), field="arch_config") from None
    elif arch or arch_config:
        raise invalid(f"'arch' and 'arch_config' are for safetensors state dicts; a {format} file carries its "
                      "own architecture", field="arch")
    else:
        config = None
    check_sizes(shape, format, arch, config, settings)
    teacher_id = new_id("teacher")
    # The file keeps its format's own suffix: torch.export.load warns about any file not named .pt2.
    key = f"teachers/{teacher_id}{TEACHER_SUFFIXES[format]}"
    with store.stage(file.file, limit=settings.max_upload_bytes) as staged:
        if staged.size_bytes == 0:
            raise invalid("the uploaded file is empty", field="file")
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            with check_slot(settings, tenant):
                probed = probe_in_sandbox(staged.path, format, shape, settings.sandbox_policy(probe=True),
                                          arch=arch, arch_config=config, output=output, output_kind=output_kind,
                                          input_dtype=input_dtype, limits=settings.parse_limits())
        except SandboxUnavailable as exc:
            raise Problem(503, str(exc), kind="sandbox-unavailable") from None
        except (TeacherInvalid, ModelRefused) as exc:
            field = getattr(exc, "field", None) or ("arch" if "unknown arch" in str(exc) else "file")
            raise invalid(str(exc), field=field, kind="invalid-teacher") from None
        # Storage was checked above before the probe, to refuse early; keep_upload checks it again under the
        # tenant's lock.
        teacher = Teacher(id=teacher_id, tenant_id=tenant, name=name, format=format, input_shape=shape,
                          num_classes=probed.num_classes, fixed_batch=probed.fixed_batch, arch=arch,
                          arch_config=config, output=probed.output, output_kind=probed.output_kind,
                          input_dtype=input_dtype)
        keep_upload(session, store, settings, tenant=tenant, row=teacher, kind="teacher", key=key, staged=staged)
    return to_public(teacher, settings)


def _create_huggingface(session, store, settings, tenant, file, name, input_shape, arch, arch_config, output,
                        output_kind, input_dtype, max_length) -> TeacherPublic:
    if input_shape is not None:
        raise invalid("a huggingface teacher takes token ids [max_length]: drop input_shape (set max_length to "
                      "change the length)", field="input_shape")
    if arch or arch_config:
        raise invalid("a huggingface folder carries its own architecture in config.json: drop 'arch' and "
                      "'arch_config'", field="arch")
    if input_dtype not in (DEFAULT_INPUT_DTYPE, "int64"):
        raise invalid("a huggingface teacher takes int64 token ids: drop input_dtype", field="input_dtype")
    if output_kind not in OUTPUT_KINDS:
        raise invalid(f"unknown output_kind {output_kind!r}; use one of: {', '.join(OUTPUT_KINDS)}",
                      field="output_kind")
    teacher = create_hf_teacher(session, store, settings, tenant, file, name, max_length=parse_max_length(max_length),
                                output=output, output_kind=output_kind)
    return to_public(teacher, settings)


@router.get("", response_model=TeacherList)
def list_teachers(tenant: TenantDep, session: SessionDep, settings: SettingsDep, limit: Limit = 20,
                  offset: Offset = 0) -> TeacherList:
    rows, count = page(session, select(Teacher).where(Teacher.tenant_id == tenant), Teacher.created_at,
                       Teacher.id, limit=limit, offset=offset)
    return TeacherList(data=[to_public(t, settings) for t in rows], count=count)


def fetch(session, teacher_id: str, tenant: str) -> Teacher:
    return fetch_owned(session, Teacher, teacher_id, tenant, "teacher")


@router.get("/{teacher_id}", response_model=TeacherPublic)
def get_teacher(teacher_id: str, tenant: TenantDep, session: SessionDep, settings: SettingsDep) -> TeacherPublic:
    return to_public(fetch(session, teacher_id, tenant), settings)


@router.delete("/{teacher_id}", status_code=204, responses={409: {"model": ProblemDetail}})
def delete_teacher(teacher_id: str, tenant: TenantDep, session: SessionDep, store: StoreDep) -> Response:
    """Delete a teacher no job refers to."""
    teacher = fetch(session, teacher_id, tenant)
    if session.scalar(select(JobTeacher.job_id).where(JobTeacher.teacher_id == teacher_id).limit(1)):
        raise Problem(409, f"teacher {teacher_id!r} is used by jobs; delete those jobs first", kind="in-use")
    artifact = teacher.artifact
    session.delete(teacher)
    session.delete(artifact)
    session.commit()
    store.delete(artifact.key)
    return Response(status_code=204)
