from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from starlette.datastructures import UploadFile

from app.deps import SessionDep, SettingsDep, StoreDep
from app.ids import new_id
from app.problems import ERROR_RESPONSES, Problem, ProblemDetail, invalid, not_found
from app.schemas import TransferSetBuiltinCreate, TransferSetList, TransferSetPublic
from app.store import UploadTooLarge
from app.tables import Artifact, Job, TransferSet
from models.transfer_sets import TransferData, TransferSetInvalid, load_builtin, load_npz

router = APIRouter(prefix="/transfer-sets", tags=["transfer-sets"], responses=ERROR_RESPONSES)

_MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["file", "name"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": ".npz with 'x' (float, N×…), optional 'y' (int labels), 'x_test', 'y_test'."},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
    },
}
_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/TransferSetBuiltinCreate"}},
        "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
    },
}


def to_public(ts: TransferSet) -> TransferSetPublic:
    return TransferSetPublic(
        id=ts.id, name=ts.name, kind=ts.kind, builtin=ts.builtin, num_samples=ts.num_samples,
        num_test=ts.num_test, sample_shape=ts.sample_shape, num_classes=ts.num_classes,
        labelled=ts.labelled, sha256=ts.artifact.sha256 if ts.artifact else None, created_at=ts.created_at,
    )


def _row(name: str, kind: str, data: TransferData, **kw) -> TransferSet:
    return TransferSet(
        id=new_id("transfer_set"), name=name, kind=kind, num_samples=len(data.x_train), num_test=data.num_test,
        sample_shape=data.sample_shape, num_classes=data.num_classes, labelled=data.labelled, **kw,
    )


def _create_builtin(session, body: TransferSetBuiltinCreate) -> TransferSetPublic:
    ts = _row(body.name, "builtin", load_builtin(body.builtin), builtin=body.builtin)
    session.add(ts)
    session.commit()
    return to_public(ts)


def _create_npz(session, store, settings, upload: UploadFile, name: str) -> TransferSetPublic:
    ts_id = new_id("transfer_set")
    key = f"transfer_sets/{ts_id}.npz"
    try:
        with store.stage(upload.file, limit=settings.max_upload_bytes, suffix=".npz") as staged:
            try:
                data = load_npz(staged.path)
            except TransferSetInvalid as exc:
                raise invalid(str(exc), field="file", kind="invalid-transfer-set") from None
            artifact = Artifact(id=new_id("artifact"), kind="transfer_set", key=key,
                                sha256=staged.sha256, size_bytes=staged.size_bytes)
            ts = _row(name, "npz", data, artifact=artifact)
            ts.id = ts_id
            session.add(ts)
            session.flush()
            store.commit(staged.path, key)
    except UploadTooLarge as exc:
        raise Problem(413, f"the file is larger than the limit of {exc.limit} bytes "
                           "(DISTILLERY_MAX_UPLOAD_BYTES)") from None
    try:
        session.commit()
    except Exception:
        store.delete(key)
        raise
    return to_public(ts)


@router.post(
    "",
    status_code=201,
    response_model=TransferSetPublic,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={413: {"model": ProblemDetail}, 415: {"model": ProblemDetail}},
)
async def create_transfer_set(
    request: Request, session: SessionDep, store: StoreDep, settings: SettingsDep
) -> TransferSetPublic:
    """Register a transfer set: JSON naming a built-in set, or a multipart ``.npz`` upload."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = TransferSetBuiltinCreate.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        return await run_in_threadpool(_create_builtin, session, body)
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload, name = form.get("file"), form.get("name")
        missing = [f for f, v in (("file", upload), ("name", name)) if not v]
        if missing:
            raise invalid(f"missing form field(s): {', '.join(missing)}", field=missing[0])
        if not isinstance(upload, UploadFile):
            raise invalid("'file' must be a file part, not a text field", field="file")
        if not isinstance(name, str) or len(name) > 200:
            raise invalid("'name' must be text of at most 200 characters", field="name")
        return await run_in_threadpool(_create_npz, session, store, settings, upload, name)
    raise Problem(415, "send application/json naming a built-in set, or multipart/form-data with an .npz file",
                  kind="unsupported-media-type")


@router.get("", response_model=TransferSetList)
def list_transfer_sets(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TransferSetList:
    count = session.scalar(select(func.count()).select_from(TransferSet))
    rows = session.scalars(
        select(TransferSet).order_by(TransferSet.created_at, TransferSet.id).limit(limit).offset(offset)
    )
    return TransferSetList(data=[to_public(t) for t in rows], count=count)


def fetch(session, transfer_set_id: str) -> TransferSet:
    ts = session.get(TransferSet, transfer_set_id)
    if ts is None:
        raise not_found("transfer set", transfer_set_id)
    return ts


@router.get("/{transfer_set_id}", response_model=TransferSetPublic)
def get_transfer_set(transfer_set_id: str, session: SessionDep) -> TransferSetPublic:
    return to_public(fetch(session, transfer_set_id))


@router.delete("/{transfer_set_id}", status_code=204, responses={409: {"model": ProblemDetail}})
def delete_transfer_set(transfer_set_id: str, session: SessionDep, store: StoreDep) -> Response:
    """Delete a transfer set no job refers to."""
    ts = fetch(session, transfer_set_id)
    used = session.scalar(select(Job.id).where(or_(
        Job.transfer_set_id == transfer_set_id,
        Job.spec["validation_transfer_set_id"].as_string() == transfer_set_id,
    )).limit(1))
    if used:
        raise Problem(409, f"transfer set {transfer_set_id!r} is used by job {used!r}; delete the job first",
                      kind="in-use")
    artifact = ts.artifact
    session.delete(ts)
    if artifact is not None:
        session.delete(artifact)
    session.commit()
    if artifact is not None:
        store.delete(artifact.key)
    return Response(status_code=204)
