"""Image transfer sets: an uploaded archive of class folders (kept packed, as one artifact), a folder under
DISTILLERY_DATA_ROOTS, or a torchvision dataset there. Each is counted by a child process with limits of its
own (models.bounded) once a check slot is free; the worker reads the images at run time."""

import json
from pathlib import Path

from pydantic import ValidationError

from app.check_slots import check_slot
from app.problems import invalid
from app.quotas import check_storage
from app.schemas import TransferSetTorchvisionCreate
from app.services.kept_uploads import keep_upload
from app.services.set_rows import invalid_set, too_large
from core.ids import new_id
from core.tables import TransferSet
from models import image_data
from models.archives import ArchiveInvalid, ArchiveTooLarge
from models.bounded import ParseFailed, ParseLimitExceeded, run_bounded
from models.image_limits import resized
from models.json_bounds import JSONTooDeep, check_depth
from models.preprocessing import Preprocessing
from models.transfer_sets import HOLDOUT_FRACTION, TransferSetInvalid, TransferSetTooLarge

TORCHVISION_IMAGE_SIDE = 32  # the largest images of image_data.TORCHVISION_DATASETS (MNIST's are 28)
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def read_bounded(settings, tenant: str, task: str, args: dict) -> dict:
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


def torchvision_row(body: TransferSetTorchvisionCreate, settings) -> TransferSet:
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


def image_folder_row(body, settings, tenant: str) -> TransferSet:
    folder = image_data.resolve_in_roots(body.path, settings.data_roots)
    summary = read_bounded(settings, tenant, "image_summary", _image_args(settings, folder, body.labelled,
                                                                          body.preprocessing))
    return _summary_row(body.name, "image_folder", summary, body.labelled, body.preprocessing, {"path": body.path},
                        image_data.fingerprint(folder))


def archive_options(settings, form) -> tuple[bool, Preprocessing]:
    """An archive upload's form fields: ``labelled`` (default true) and ``preprocessing`` (JSON)."""
    labelled = str(form.get("labelled", "true")).lower() not in ("false", "0", "no")
    try:
        raw_prep = form.get("preprocessing") or "{}"
        check_depth(raw_prep, settings.max_json_depth)
        prep = Preprocessing.model_validate(json.loads(raw_prep))
    except (json.JSONDecodeError, ValidationError, JSONTooDeep) as exc:
        raise invalid(f"preprocessing must be a JSON preprocessing spec: {exc}", field="preprocessing") from None
    return labelled, prep


def create_archive(session, store, settings, upload, name: str, tenant: str, form) -> TransferSet:
    """The archive is kept packed, as one artifact: it is unpacked here only to be checked and counted, and
    again by each reader into its local cache (worker/jobs/transfer_kinds.py)."""
    labelled, prep = archive_options(settings, form)
    ts_id = new_id("transfer_set")
    filename = (upload.filename or "").lower()
    key = f"transfer_sets/{ts_id}{next((s for s in ARCHIVE_SUFFIXES[::-1] if filename.endswith(s)), '.archive')}"
    with store.stage(upload.file, limit=settings.max_upload_bytes) as staged, \
            store.staging_path(folder=True) as work:
        check_storage(session, tenant, settings, staged.size_bytes)
        archive = {"path": str(staged.path), "max_files": settings.archive_max_files,
                   "max_bytes": settings.archive_max_bytes, "max_ratio": settings.archive_max_ratio}
        try:
            summary = read_bounded(settings, tenant, "image_summary",
                                    _image_args(settings, work / "unpacked", labelled, prep, archive))
            ts = _summary_row(name, "image_archive", summary, labelled, prep,
                              {"unpacked_bytes": summary["unpacked_bytes"]}, staged.sha256)
        except (ArchiveTooLarge, TransferSetTooLarge) as exc:
            raise too_large(exc, "file") from None
        except (ArchiveInvalid, TransferSetInvalid) as exc:
            raise invalid_set(exc, "file") from None
        ts.id, ts.tenant_id = ts_id, tenant
        keep_upload(session, store, settings, tenant=tenant, row=ts, kind="transfer_set", key=key, staged=staged)
    return ts
