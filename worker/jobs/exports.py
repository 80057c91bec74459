"""A job's success: its student exported in every requested format, under a folder named by the lease, and
the job marked succeeded with its results in one fenced transaction."""

import logging
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select, update

from core.config import get_settings
from core.ids import new_id
from core.store import ArtifactStore, sha256_of
from core.tables import Artifact, Job, StudentExport
from models.export import EXPORT_FORMATS, PlainSoftmax, export
from models.job_spec import JobSpec
from models.statuses import JobStatus
from models.transfer_sets import TransferData
from worker.jobs import deployment, text_deployment, text_exports
from worker.jobs.ending import count_finished, drop_checkpoints, now, short_reason
from worker.jobs.recording import add_event
from worker.leases import Lease, fenced

log = logging.getLogger(__name__)


def succeed(lease: Lease, store: ArtifactStore, student: PlainSoftmax, input_shape, spec: JobSpec,
            results: dict, message: str = "the job succeeded", class_names: list[str] | None = None,
            data: TransferData | None = None, quantization_aware: PlainSoftmax | None = None) -> None:
    """``data``: the job's transfer data where the caller holds it (the INT8 student's calibration and test);
    otherwise it is loaded if needed. ``quantization_aware``: the student fine-tuned for its INT8 file
    (``onnx_int8`` is made from it; every other format from ``student``)."""
    job_id = lease.id
    metadata = {"class_names": class_names} if class_names else {}
    source = deployment.DataSource(store, spec.transfer_set_id, data)
    with tempfile.TemporaryDirectory(prefix="distillery-onnx-") as folder:
        text = text_exports.is_text_student(spec)
        # Made once, then stored as they are and measured: the report's files are the downloads.
        if text:
            files, metadata = text_exports.text_files(student, spec, store, Path(folder), metadata)
            class_names = metadata["class_names"]  # the teacher's id2label order, which the labels were mapped by
        else:
            files = deployment.onnx_files(student, input_shape, metadata, spec.export_formats, Path(folder), source,
                                          quantization_aware=quantization_aware)
        artifacts, exports = export_all(job_id, store, student, input_shape, spec.student.model_dump(mode="json"),
                                        metadata, spec.export_formats, folder=f"students/{job_id}/{lease.token}",
                                        prepared=files)
        if get_settings().deployment_report:
            try:
                if text:
                    made = text_deployment.report(model=student, spec=spec, store=store, files=files, exports=exports)
                else:
                    made = deployment.report(
                        model=student, teacher_ids=list(spec.teacher_ids), store=store, files=files,
                        exports=exports, data=source,
                        quantization_aware=results.get("quantization_aware") if quantization_aware is not None
                        else None)
                results = {**results, "deployment": made}
            except Exception as exc:  # the job's student is made: a report that fails says why, nothing more
                log.exception("job %s: the deployment report failed", job_id)
                results = {**results, "deployment": {"error": short_reason(exc)}}
    if class_names:
        results = {**results, "class_names": class_names}
    if not artifacts:
        raise RuntimeError("the student could not be exported in any format: "
                           + "; ".join(f"{f}: {e['error']}" for f, e in exports.items()))
    try:
        with fenced(lease) as s:
            s.add_all(artifacts.values())
            s.flush()
            s.add_all(StudentExport(job_id=job_id, format=f, artifact_id=a.id) for f, a in artifacts.items())
            s.execute(update(Job).where(Job.id == job_id).values(
                status=JobStatus.SUCCEEDED, result={**results, "exports": exports}, finished_at=now(),
                **lease.released()))
            add_event(s, job_id, "exported", "student exported with a plain softmax (T = 1)", {"formats": exports})
            add_event(s, job_id, JobStatus.SUCCEEDED, message)
            started_at = s.scalar(select(Job.started_at).where(Job.id == job_id))
    except BaseException:
        for artifact in artifacts.values():
            store.delete(artifact.key)
        raise
    count_finished(JobStatus.SUCCEEDED, started_at)
    drop_checkpoints(job_id)


def export_all(job_id: str, store: ArtifactStore, model, input_shape, student_spec: dict,
               metadata: dict, formats: list[str], folder: str,
               prepared: dict[str, Path | str] | None = None) -> tuple[dict[str, Artifact], dict[str, dict]]:
    """Every requested format that can be made; one that fails is recorded with its reason, not fatal.
    The files go under ``folder``, which names the lease: a worker fenced out never overwrites them.
    ``prepared`` holds files made already (the ONNX ones), or the reason one could not be made."""
    artifacts: dict[str, Artifact] = {}
    summary: dict[str, dict] = {}
    prepared = prepared or {}
    for fmt in formats:
        ext = EXPORT_FORMATS[fmt]
        key = f"{folder}/student.{ext}"
        try:
            with store.staging_path(f".{ext}") as staged:
                made = prepared.get(fmt)
                if isinstance(made, str):
                    raise RuntimeError(made)
                if made is not None:
                    shutil.copyfile(made, staged)
                else:
                    export(fmt, model, input_shape, staged, student_spec=student_spec, metadata=metadata)
                digest, size = sha256_of(staged), staged.stat().st_size
                store.commit(staged, key)
        except Exception as exc:
            log.exception("job %s: %s export failed", job_id, fmt)
            first_line = str(exc).splitlines()[0][:300] if str(exc) else ""
            summary[fmt] = {"error": f"{type(exc).__name__}: {first_line}"}
            continue
        artifacts[fmt] = Artifact(id=new_id("artifact"), kind="student", key=key, sha256=digest, size_bytes=size)
        summary[fmt] = {"sha256": digest, "size_bytes": size}
    return artifacts, summary
