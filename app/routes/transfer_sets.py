"""The transfer-set routes: a JSON or multipart request parsed and handed to ``app.services.transfer_sets``;
listing, reading and deleting sets."""


from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import or_, select

from app.auth import TenantDep
from app.deps import SessionDep, SettingsDep, StoreDep
from app.problems import ERROR_RESPONSES, Problem, ProblemDetail
from app.schemas import (
    TransferSetJSONCreate,
    TransferSetList,
    TransferSetPublic,
)
from app.scoping import Limit, Offset, fetch_owned, page
from app.services.transfer_sets import UPLOAD_KINDS, create_from_json, create_upload
from core.tables import Job, TransferSet

_JSON_BODY = TypeAdapter(TransferSetJSONCreate)

router = APIRouter(prefix="/transfer-sets", tags=["transfer-sets"], responses=ERROR_RESPONSES)

_MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["file", "name"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": ".npz with 'x' (float, or int/bool ids, N×…), optional 'y' (int labels), 'x_test', "
                                "'y_test'; a .csv or .parquet table (one row a sample); a .jsonl of texts "
                                "(one {\"text\": ..., \"label\": ...} a line); or a zip/tar of "
                                "class_name/image.png folders."},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {"type": "string", "enum": list(UPLOAD_KINDS),
                 "description": "Default: from the file name (.npz; .csv/.parquet; .jsonl: text; or "
                                ".zip/.tar/.tar.gz). text with a .csv: a CSV of texts."},
        "text_column": {"type": "string", "description": "Text sets: the column of texts (default 'text')."},
        "label_column": {"type": "string", "description": "Tables and text sets: the column of class numbers or names "
                         "(default 'label'; without it the set is unlabelled). A 'split' column of 'train'/'test' "
                         "gives the test split."},
        "feature_columns": {"type": "string", "description": "Tables: JSON list of the feature columns, in order "
                            "(default: every column but the label and the split, in file order)."},
        "labelled": {"type": "boolean", "description": "Archives: false to ignore class folders."},
        "preprocessing": {"type": "string", "description": "Archives: JSON preprocessing spec."},
    },
}
_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [
            {"$ref": "#/components/schemas/TransferSetBuiltinCreate"},
            {"$ref": "#/components/schemas/TransferSetImageFolderCreate"},
            {"$ref": "#/components/schemas/TransferSetTorchvisionCreate"},
        ]}},
        "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
    },
}


def to_public(ts: TransferSet) -> TransferSetPublic:
    return TransferSetPublic(
        id=ts.id, name=ts.name, kind=ts.kind, builtin=ts.builtin, num_samples=ts.num_samples,
        num_test=ts.num_test, sample_shape=ts.sample_shape, num_classes=ts.num_classes,
        labelled=ts.labelled, sha256=ts.artifact.sha256 if ts.artifact else ts.fingerprint,
        spec=ts.spec, class_names=ts.class_names, dtype=ts.dtype or "float32", created_at=ts.created_at,
    )


@router.post(
    "",
    status_code=201,
    response_model=TransferSetPublic,
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={413: {"model": ProblemDetail}, 415: {"model": ProblemDetail}},
)
async def create_transfer_set(
    request: Request, tenant: TenantDep, session: SessionDep, store: StoreDep, settings: SettingsDep
) -> TransferSetPublic:
    """Register a transfer set: JSON naming a built-in set, or a multipart upload of an ``.npz``, a ``.csv`` or
    ``.parquet`` table, or an image archive."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = _JSON_BODY.validate_json(await request.body())
        except ValidationError as exc:
            # Errors inside one kind are located under its tag; the client's field has no tag.
            kinds = ("builtin", "image_folder", "torchvision")
            raise RequestValidationError([{**e, "loc": e["loc"][1:] if e["loc"][:1] and e["loc"][0] in kinds
                                           else e["loc"]} for e in exc.errors()]) from None
        return to_public(await run_in_threadpool(
            lambda: create_from_json(session=session, settings=settings, tenant=tenant, body=body)))
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        return to_public(await run_in_threadpool(
            lambda: create_upload(session=session, store=store, settings=settings, tenant=tenant, form=form)))
    raise Problem(415, "send application/json (a built-in set, an image folder or a torchvision dataset), or "
                       "multipart/form-data with an .npz, a .csv or .parquet table, or an image archive",
                  kind="unsupported-media-type")


@router.get("", response_model=TransferSetList)
def list_transfer_sets(tenant: TenantDep, session: SessionDep, limit: Limit = 20,
                       offset: Offset = 0) -> TransferSetList:
    rows, count = page(session, select(TransferSet).where(TransferSet.tenant_id == tenant),
                       TransferSet.created_at, TransferSet.id, limit=limit, offset=offset)
    return TransferSetList(data=[to_public(t) for t in rows], count=count)


def fetch(session, transfer_set_id: str, tenant: str) -> TransferSet:
    return fetch_owned(session, TransferSet, transfer_set_id, tenant, "transfer set")


@router.get("/{transfer_set_id}", response_model=TransferSetPublic)
def get_transfer_set(transfer_set_id: str, tenant: TenantDep, session: SessionDep) -> TransferSetPublic:
    return to_public(fetch(session, transfer_set_id, tenant))


@router.delete("/{transfer_set_id}", status_code=204, responses={409: {"model": ProblemDetail}})
def delete_transfer_set(transfer_set_id: str, tenant: TenantDep, session: SessionDep, store: StoreDep) -> Response:
    """Delete a transfer set no job refers to."""
    ts = fetch(session, transfer_set_id, tenant)
    used = session.scalar(select(Job.id).where(or_(
        Job.transfer_set_id == transfer_set_id,
        Job.spec["validation_transfer_set_id"].as_string() == transfer_set_id,
    )).limit(1))
    if used:
        raise Problem(409, f"transfer set {transfer_set_id!r} is used by job {used!r}; delete the job first",
                      kind="in-use")
    artifact = ts.artifact
    extracted = (ts.spec or {}).get("extracted")
    session.delete(ts)
    if artifact is not None:
        session.delete(artifact)
    session.commit()
    if artifact is not None:
        store.delete(artifact.key)
    if extracted:  # an archive registered before archives were kept packed
        store.delete_prefix(extracted)
    return Response(status_code=204)
