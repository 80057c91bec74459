import json
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import or_, select
from starlette.datastructures import UploadFile

from app.auth import TenantDep
from app.check_slots import check_slot
from app.deps import SessionDep, SettingsDep, StoreDep
from app.problems import ERROR_RESPONSES, Problem, ProblemDetail, invalid
from app.quotas import check_storage
from app.schemas import (
    TransferSetBuiltinCreate,
    TransferSetImageFolderCreate,
    TransferSetJSONCreate,
    TransferSetList,
    TransferSetPublic,
    TransferSetTorchvisionCreate,
)
from app.scoping import Limit, Offset, fetch_owned, page
from app.services.kept_uploads import keep_upload
from app.services.table_sets import create_table, table_format
from app.services.text_sets import TEXT_KIND, create_text_set, is_text_upload
from core.ids import new_id
from core.tables import Job, TransferSet
from models import image_data
from models.archives import ArchiveInvalid, ArchiveTooLarge
from models.bounded import ParseFailed, ParseLimitExceeded, run_bounded
from models.image_limits import resized
from models.json_bounds import JSONTooDeep, check_depth
from models.preprocessing import Preprocessing
from models.safe_text import text_problem
from models.transfer_sets import (
    HOLDOUT_FRACTION,
    TransferData,
    TransferSetInvalid,
    TransferSetTooLarge,
    load_builtin,
)

_JSON_BODY = TypeAdapter(TransferSetJSONCreate)
TORCHVISION_IMAGE_SIDE = 32  # the largest images of image_data.TORCHVISION_DATASETS (MNIST's are 28)
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")

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
        "kind": {"type": "string", "enum": ["npz", "image_archive", "table", "text"],
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


def _row(name: str, kind: str, data: TransferData, **kw) -> TransferSet:
    return TransferSet(
        id=new_id("transfer_set"), name=name, kind=kind, num_samples=len(data.x_train), num_test=data.num_test,
        sample_shape=data.sample_shape, num_classes=data.num_classes, labelled=data.labelled, dtype=data.dtype, **kw,
    )


def _invalid(exc: Exception, field: str) -> Problem:
    return invalid(str(exc), field=field, kind="invalid-transfer-set")


def _create_from_json(session, settings, body, tenant: str) -> TransferSetPublic:
    try:
        if isinstance(body, TransferSetBuiltinCreate):
            ts = _row(body.name, "builtin", load_builtin(body.builtin), builtin=body.builtin)
        elif isinstance(body, TransferSetImageFolderCreate):
            folder = image_data.resolve_in_roots(body.path, settings.data_roots)
            summary = _read_bounded(settings, tenant, "image_summary", _image_args(settings, folder, body.labelled,
                                                                                    body.preprocessing))
            ts = _summary_row(body.name, "image_folder", summary, body.labelled, body.preprocessing,
                              {"path": body.path}, image_data.fingerprint(folder))
        else:
            ts = _torchvision_row(body, settings)
    except TransferSetTooLarge as exc:
        field = "path" if isinstance(body, TransferSetImageFolderCreate) else "preprocessing"
        raise Problem(413, str(exc), errors=[{"field": field, "message": str(exc)}]) from None
    except TransferSetInvalid as exc:
        field = {"TransferSetImageFolderCreate": "path", "TransferSetTorchvisionCreate": "root"}.get(
            type(body).__name__, "builtin")
        raise _invalid(exc, field) from None
    ts.tenant_id = tenant
    session.add(ts)
    session.commit()
    return to_public(ts)


def _read_bounded(settings, tenant: str, task: str, args: dict) -> dict:
    """A tenant's file read in a child with limits of its own (models.bounded), once a check slot is free."""
    with check_slot(settings, tenant):
        try:
            return run_bounded(task, args, settings.parse_limits())
        except ParseLimitExceeded as exc:
            raise TransferSetTooLarge(str(exc)) from None
        except ParseFailed as exc:
            raise TransferSetInvalid(str(exc)) from None


def _image_args(settings, folder: Path, labelled: bool, prep: Preprocessing, archive: dict | None = None) -> dict:
    return {"folder": str(folder), "labelled": labelled, "preprocessing": prep.model_dump(mode="json"),
            "archive": archive, "max_image_pixels": settings.image_max_pixels,
            "max_set_pixels": settings.image_max_set_pixels, "max_input_elements": settings.max_input_elements}


def _summary_row(name: str, kind: str, summary: dict, labelled: bool, prep: Preprocessing, spec: dict,
                 fingerprint: str) -> TransferSet:
    """An image set's row from what the bounded child counted: the worker reads the images at run time."""
    return TransferSet(
        id=new_id("transfer_set"), name=name, kind=kind, num_samples=summary["num_samples"],
        num_test=summary["num_test"], sample_shape=summary["sample_shape"], num_classes=summary["num_classes"],
        labelled=summary["labelled"], class_names=summary["class_names"], fingerprint=fingerprint,
        spec={**spec, "labelled": labelled, "preprocessing": prep.model_dump(mode="json")},
    )


def _torchvision_row(body: TransferSetTorchvisionCreate, settings) -> TransferSet:
    # A sample is decoded here (its shape is recorded): bound what the tenant's resize makes of one first.
    width, height = resized(TORCHVISION_IMAGE_SIDE, TORCHVISION_IMAGE_SIDE, body.preprocessing.resize)
    if width * height > settings.image_max_pixels:
        raise TransferSetTooLarge(f"preprocessing.resize {body.preprocessing.resize} makes each image {width}x{height} "
                                  f"= {width * height} pixels, more than the limit of {settings.image_max_pixels} "
                                  "(DISTILLERY_IMAGE_MAX_PIXELS); resize to a smaller size")
    root = image_data.resolve_in_roots(body.root, settings.data_roots)
    train = image_data.torchvision_dataset(body.dataset, root, True, body.preprocessing)
    try:
        n_test = len(image_data.torchvision_dataset(body.dataset, root, False, body.preprocessing))
        n = len(train)
    except TransferSetInvalid:
        n_test = int(round(len(train) * HOLDOUT_FRACTION))
        n = len(train) - n_test
    names = image_data.class_names_of(train)
    return TransferSet(
        id=new_id("transfer_set"), name=body.name, kind="torchvision", num_samples=n, num_test=n_test,
        sample_shape=list(train[0][0].shape), num_classes=len(names) if body.labelled else None,
        labelled=body.labelled, class_names=names if body.labelled else None,
        spec={"dataset": body.dataset, "root": body.root, "labelled": body.labelled,
              "preprocessing": body.preprocessing.model_dump(mode="json")},
        fingerprint=image_data.fingerprint(root),
    )


def _create_archive(session, store, settings, upload: UploadFile, name: str, labelled: bool,
                    prep: Preprocessing, tenant: str) -> TransferSetPublic:
    """The archive is kept packed, as one artifact: it is unpacked here only to be checked and counted, and
    again by each reader into its local cache (worker/jobs/transfer_kinds.py)."""
    ts_id = new_id("transfer_set")
    filename = (upload.filename or "").lower()
    key = f"transfer_sets/{ts_id}{next((s for s in ARCHIVE_SUFFIXES[::-1] if filename.endswith(s)), '.archive')}"
    with store.stage(upload.file, limit=settings.max_upload_bytes) as staged, \
            store.staging_path(folder=True) as work:
        check_storage(session, tenant, settings, staged.size_bytes)
        archive = {"path": str(staged.path), "max_files": settings.archive_max_files,
                   "max_bytes": settings.archive_max_bytes, "max_ratio": settings.archive_max_ratio}
        try:
            summary = _read_bounded(settings, tenant, "image_summary",
                                    _image_args(settings, work / "unpacked", labelled, prep, archive))
            ts = _summary_row(name, "image_archive", summary, labelled, prep,
                              {"unpacked_bytes": summary["unpacked_bytes"]}, staged.sha256)
        except (ArchiveTooLarge, TransferSetTooLarge) as exc:
            raise Problem(413, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        except (ArchiveInvalid, TransferSetInvalid) as exc:
            raise _invalid(exc, "file") from None
        ts.id, ts.tenant_id = ts_id, tenant
        keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=staged)
    return to_public(ts)


def _create_npz(session, store, settings, upload: UploadFile, name: str, tenant: str) -> TransferSetPublic:
    ts_id = new_id("transfer_set")
    key = f"transfer_sets/{ts_id}.npz"
    with store.stage(upload.file, limit=settings.max_upload_bytes, suffix=".npz") as staged:
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            summary = _read_bounded(settings, tenant, "npz_summary", {
                "path": str(staged.path), "max_bytes": settings.npz_max_bytes, "max_ratio": settings.archive_max_ratio})
        except TransferSetTooLarge as exc:
            raise Problem(413, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        except TransferSetInvalid as exc:
            raise invalid(str(exc), field="file", kind="invalid-transfer-set") from None
        ts = TransferSet(id=ts_id, name=name, kind="npz", tenant_id=tenant, **summary)
        keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=staged)
    return to_public(ts)


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
        return await run_in_threadpool(_create_from_json, session, settings, body, tenant)
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
        if problem := text_problem(name):
            raise invalid(f"'name' {problem}", field="name")
        kind = form.get("kind") or _upload_kind(upload.filename or "")
        if kind == "npz":
            return await run_in_threadpool(_create_npz, session, store, settings, upload, name, tenant)
        if kind == "table":
            return to_public(await run_in_threadpool(create_table, session, store, settings, upload, name, tenant,
                                                     form, _row))
        if kind == TEXT_KIND:
            return to_public(await run_in_threadpool(create_text_set, session, store, settings, upload, name, tenant,
                                                     form))
        if kind != "image_archive":
            raise invalid(f"unknown kind {kind!r} for an upload; use 'npz', 'table', 'text' or 'image_archive'",
                          field="kind")
        labelled = str(form.get("labelled", "true")).lower() not in ("false", "0", "no")
        try:
            raw_prep = form.get("preprocessing") or "{}"
            check_depth(raw_prep, settings.max_json_depth)
            prep = Preprocessing.model_validate(json.loads(raw_prep))
        except (json.JSONDecodeError, ValidationError, JSONTooDeep) as exc:
            raise invalid(f"preprocessing must be a JSON preprocessing spec: {exc}", field="preprocessing") from None
        return await run_in_threadpool(_create_archive, session, store, settings, upload, name, labelled, prep,
                                       tenant)
    raise Problem(415, "send application/json (a built-in set, an image folder or a torchvision dataset), or "
                       "multipart/form-data with an .npz, a .csv or .parquet table, or an image archive",
                  kind="unsupported-media-type")


def _upload_kind(filename: str) -> str:
    """An upload's kind from its file name: one entry per kind, so a new kind is one more line."""
    name = filename.lower()
    if name.endswith(ARCHIVE_SUFFIXES):
        return "image_archive"
    if is_text_upload(name):
        return TEXT_KIND
    if table_format(name):
        return "table"
    return "npz"


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
