"""``POST /v1/teachers`` with ``format=huggingface``: a ``.zip`` or ``.tar.gz`` of a ``save_pretrained`` folder.

The archive is unpacked with the bounded extraction of ``models.archives`` into staging, the folder is checked
by ``models.text.hf_folder`` (safetensors weights, no ``auto_map``, a fast tokenizer, a known sequence
classifier), and the teacher is loaded and run on zero batches of token ids inside the sandbox like any other
teacher. The archive is what the store keeps (one artifact, as image archives are); every reader unpacks it
again under the same bounds. transformers is imported here only when such an upload is checked, never when
the API starts."""

from app.check_slots import check_slot
from app.problems import Problem, invalid
from app.quotas import check_storage
from app.services.kept_uploads import keep_upload
from core.ids import new_id
from core.tables import Teacher
from models.archives import ArchiveInvalid, ArchiveTooLarge
from models.inspection import ModelRefused
from models.sandbox.jail import SandboxUnavailable
from models.sandbox.remote import probe_in_sandbox
from models.teachers import TeacherInvalid

MAX_LENGTH_HELP = "max_length: the token ids a text is cut to (default: the tokenizer's model_max_length, at most 512)"


def parse_max_length(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"max_length must be an integer; got {raw[:50]!r}", field="max_length") from None
    return value


def text_info(info) -> dict:
    """What a job needs of a text teacher, kept in its row's ``arch_config``."""
    return {"model_type": info.model_type, "architecture": info.architecture, "class_names": list(info.class_names),
            "max_length": info.max_length, "pad_token_id": info.pad_token_id, "vocab_size": info.vocab_size,
            "tokenizer_sha256": info.tokenizer_sha256, "hidden_size": info.hidden_size,
            "num_layers": info.num_layers, "max_position_embeddings": info.max_position_embeddings}


def create_hf_teacher(session, store, settings, tenant: str, upload, name: str, *, max_length: int | None,
                      output: str | None, output_kind: str) -> Teacher:
    from models.text.archive import archive_suffix, unpack_hf_archive
    from models.text.hf_folder import HFFolderInvalid, check_hf_folder

    if output is not None:
        raise invalid("a Hugging Face teacher has one output, its logits; drop 'output'", field="output")
    teacher_id = new_id("teacher")
    with store.stage(upload.file, limit=settings.max_upload_bytes) as staged, \
            store.staging_path(folder=True) as work:
        if staged.size_bytes == 0:
            raise invalid("the uploaded file is empty", field="file")
        check_storage(session, tenant, settings, staged.size_bytes)
        try:
            # what is admitted must unpack again inside the sandbox's scratch space, where the teacher is loaded
            # (a tenth of it left for what loading writes beside the folder)
            room = settings.sandbox_scratch_bytes * 9 // 10
            scratch_bound = room < settings.archive_max_bytes
            folder = unpack_hf_archive(staged.path, work / "unpacked", max_bytes=min(settings.archive_max_bytes, room),
                                       bytes_setting="DISTILLERY_SANDBOX_SCRATCH_BYTES" if scratch_bound
                                       else "DISTILLERY_ARCHIVE_MAX_BYTES",
                                       max_files=min(settings.archive_max_files, 1000),
                                       max_ratio=settings.archive_max_ratio)
            info = check_hf_folder(folder, max_length)
        except ArchiveTooLarge as exc:
            raise Problem(413, str(exc), errors=[{"field": "file", "message": str(exc)}]) from None
        except ArchiveInvalid as exc:
            raise invalid(f"{exc}; upload the folder save_pretrained writes as a .zip or .tar.gz", field="file",
                          kind="invalid-teacher") from None
        except HFFolderInvalid as exc:
            raise invalid(exc.message, field=exc.field, kind="invalid-teacher") from None
        shape = [info.max_length]
        try:
            with check_slot(settings, tenant):
                probed = probe_in_sandbox(staged.path, "huggingface", shape, settings.sandbox_policy(probe=True),
                                          output_kind=output_kind, input_dtype="int64",
                                          limits=settings.parse_limits())
        except SandboxUnavailable as exc:
            raise Problem(503, str(exc), kind="sandbox-unavailable") from None
        except (TeacherInvalid, ModelRefused) as exc:
            raise invalid(str(exc), field=getattr(exc, "field", None) or "file", kind="invalid-teacher") from None
        if probed.num_classes != info.num_labels:
            raise invalid(f"the model returns {probed.num_classes} scores, but config.json's id2label names "
                          f"{info.num_labels} classes: set id2label to the model's classes and save again",
                          field="file", kind="invalid-teacher")
        key = f"teachers/{teacher_id}{archive_suffix(staged.path)}"
        teacher = Teacher(id=teacher_id, tenant_id=tenant, name=name, format="huggingface", input_shape=shape,
                          num_classes=probed.num_classes, fixed_batch=None, arch=None, arch_config=text_info(info),
                          output=None, output_kind=probed.output_kind, input_dtype="int64")
        keep_upload(session, store, settings, tenant=tenant, row=teacher, kind="teacher", key=key, staged=staged)
    return teacher
