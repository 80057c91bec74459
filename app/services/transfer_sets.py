"""Creating a transfer set: from JSON (a built-in set, an image folder, a torchvision dataset) or from an
upload, whose kind (``kind``, or the file's name) picks its reader from ``UPLOAD_KINDS``: one entry a kind.
Each returns the committed row; the route shapes it."""

from sqlalchemy.orm import Session

from app.problems import invalid
from app.quotas import check_storage
from app.schemas import TransferSetBuiltinCreate, TransferSetImageFolderCreate
from app.services.image_sets import ARCHIVE_SUFFIXES, create_archive, image_folder_row, read_bounded, torchvision_row
from app.services.kept_uploads import keep_upload
from app.services.set_rows import invalid_set, set_row, too_large
from app.services.table_sets import create_table, table_format
from app.services.text_sets import TEXT_KIND, create_text_set, is_text_upload
from core.config import Settings
from core.ids import new_id
from core.store import ArtifactStore
from core.tables import TransferSet
from models.safe_text import text_problem
from models.transfer_sets import TransferSetInvalid, TransferSetTooLarge, load_builtin


def create_from_json(*, session: Session, settings: Settings, tenant: str, body) -> TransferSet:
    try:
        if isinstance(body, TransferSetBuiltinCreate):
            ts = set_row(body.name, "builtin", load_builtin(body.builtin), builtin=body.builtin)
        elif isinstance(body, TransferSetImageFolderCreate):
            ts = image_folder_row(body, settings, tenant)
        else:
            ts = torchvision_row(body, settings)
    except TransferSetTooLarge as exc:
        raise too_large(exc, "path" if isinstance(body, TransferSetImageFolderCreate) else "preprocessing") from None
    except TransferSetInvalid as exc:
        field = {"TransferSetImageFolderCreate": "path", "TransferSetTorchvisionCreate": "root"}.get(
            type(body).__name__, "builtin")
        raise invalid_set(exc, field) from None
    ts.tenant_id = tenant
    session.add(ts)
    session.commit()
    return ts


def create_npz(session, store, settings, upload, name: str, tenant: str, form) -> TransferSet:
    ts_id = new_id("transfer_set")
    key = f"transfer_sets/{ts_id}.npz"
    with store.stage(upload.file, limit=settings.max_upload_bytes, suffix=".npz") as staged:
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            summary = read_bounded(settings, tenant, "npz_summary", {
                "path": str(staged.path), "max_bytes": settings.npz_max_bytes, "max_ratio": settings.archive_max_ratio})
        except TransferSetTooLarge as exc:
            raise too_large(exc, "file") from None
        except TransferSetInvalid as exc:
            raise invalid_set(exc, "file") from None
        ts = TransferSet(id=ts_id, name=name, kind="npz", tenant_id=tenant, **summary)
        keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=staged)
    return ts


def _table(session, store, settings, upload, name: str, tenant: str, form) -> TransferSet:
    return create_table(session, store, settings, upload, name, tenant, form, set_row)


# kind -> reader(session, store, settings, upload, name, tenant, form) -> the committed row
UPLOAD_KINDS = {"npz": create_npz, "image_archive": create_archive, "table": _table, TEXT_KIND: create_text_set}


def upload_kind(filename: str) -> str:
    """An upload's kind from its file name."""
    name = filename.lower()
    if name.endswith(ARCHIVE_SUFFIXES):
        return "image_archive"
    if is_text_upload(name):
        return TEXT_KIND
    if table_format(name):
        return "table"
    return "npz"


def create_upload(*, session: Session, store: ArtifactStore, settings: Settings, tenant: str, form) -> TransferSet:
    """A multipart upload: its ``file`` and ``name`` checked, then read by its kind's reader."""
    from starlette.datastructures import UploadFile

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
    kind = form.get("kind") or upload_kind(upload.filename or "")
    reader = UPLOAD_KINDS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        raise invalid(f"unknown kind {str(kind)[:50]!r} for an upload; use one of {', '.join(map(repr, UPLOAD_KINDS))}",
                      field="kind")
    return reader(session, store, settings, upload, name, tenant, form)
