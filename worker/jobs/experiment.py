"""What a job trains with, read from its rows and the store: the engine's Experiment (teachers opened in
their sandbox, transfer data, the student, the teacher-output cache keys), and the store itself."""

import time
from functools import partial

import numpy as np
from sqlalchemy import select

from core.config import get_settings
from core.db import session_scope
from core.store import ArtifactStore, get_store
from core.tables import Job, Teacher, TransferSet
from models.input_dtypes import cast_inputs
from models.job_spec import JobSpec
from models.sandbox.remote import open_teacher
from models.teacher_outputs import ScoredTeacher
from models.transfer_sets import TransferData
from models.zoo import build_student, load_state_dict_into
from worker.engine.loop import resolve_device
from worker.engine.pipeline import Experiment
from worker.engine.teacher_cache import cache_key
from worker.jobs.recording import add_event
from worker.jobs.stored_teacher_cache import teacher_output_cache
from worker.jobs.text_data import load_text_data, teacher_folder, text_info
from worker.jobs.transfer_kinds import data_identity, load_transfer_data, streams
from worker.leases import Lease, fenced


def artifact_store() -> ArtifactStore:
    settings = get_settings()
    store = get_store()
    store.sweep_staging(time.time() - settings.staging_grace_seconds)  # left by a worker killed mid-write
    return store


def save_weights(store: ArtifactStore, key: str, module) -> None:
    """A module's state dict as a safetensors file in the store, written whole or not at all."""
    from safetensors.torch import save_file

    with store.staging_path(".safetensors") as staged:
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(staged))
        store.commit(staged, key)


def teacher_identity(t: Teacher) -> dict:
    identity = {"sha256": t.artifact.sha256, "format": t.format, "arch": t.arch, "arch_config": t.arch_config,
                "input_shape": t.input_shape}
    # Named only where they differ from what every teacher was before they could be chosen, so that the
    # cache entries of those teachers keep their keys.
    scoring = {"output": t.output, "output_kind": t.output_kind or "logits", "input_dtype": t.input_dtype or "float32"}
    before = {"output": None, "output_kind": "logits", "input_dtype": "float32"}
    return identity | {k: v for k, v in scoring.items() if v != before[k]}


def read_spec(job: Job) -> JobSpec:
    """The job's spec, parsed once where a task loads the job (inside the session that loaded it: the
    teachers' ids come from a relationship)."""
    return JobSpec.from_stored(job.spec, teacher_ids=job.teacher_ids, transfer_set_id=job.transfer_set_id)


def _student(spec, input_shape, num_classes: int, init_path, input_dtype: str = "float32", text: dict | None = None,
             teacher_folder=None):
    model = build_student(spec, input_shape, num_classes, input_dtype, text=text)
    if teacher_folder is not None and getattr(spec, "init", "random") == "teacher":
        from models.text.hf_teacher import load_hf_teacher
        from models.text.students import init_from_teacher

        # safetensors weights of a folder the API checked, loaded without the repository's code
        init_from_teacher(model, load_hf_teacher(teacher_folder))
    return load_state_dict_into(model, init_path) if init_path else model


def _data(ts: TransferSet, teacher: Teacher, store: ArtifactStore) -> TransferData:
    if ts.kind == "text":
        return load_text_data(ts, teacher, store)
    return load_transfer_data(ts, store)


def build_experiment(job_id: str, spec: JobSpec, store: ArtifactStore, lease: Lease, cfg_update: dict | None = None,
                     baseline: bool | None = None) -> tuple[list[Teacher], Experiment]:
    settings = get_settings()
    with session_scope() as s:
        teachers = [s.get(Teacher, tid) for tid in spec.teacher_ids]
        transfer_set = s.get(TransferSet, spec.transfer_set_id)
        vid = spec.validation_transfer_set_id
        validation_set = s.get(TransferSet, vid) if vid else None
        init = s.get(Teacher, spec.student_init_weights) if spec.student_init_weights else None
        tenant = s.scalar(select(Job.tenant_id).where(Job.id == job_id))
    cfg = spec.config(cfg_update)
    if cfg.device == "auto" and settings.worker_device != "auto":
        cfg = cfg.model_copy(update={"device": settings.worker_device})
    input_shape, num_classes = teachers[0].input_shape, teachers[0].num_classes
    dtype = teachers[0].input_dtype or "float32"
    init_path = store.open_local(init.artifact.key, init.artifact.sha256) if init else None
    text = text_info(teachers[0])
    initialising = text and getattr(spec.student, "init", None) == "teacher"
    hf_folder = teacher_folder(teachers[0], store) if initialising else None
    if streams(transfer_set):
        with fenced(lease) as s:
            add_event(s, job_id, "data_streamed", f"{transfer_set.num_samples + transfer_set.num_test} samples are "
                      "read from disk batch by batch (larger than DISTILLERY_IN_MEMORY_MAX_BYTES)")
    experiment = Experiment(
        teachers=[ScoredTeacher(open_teacher(store.open_local(t.artifact.key, t.artifact.sha256), t.format,
                                             settings.sandbox_policy(), arch=t.arch,
                                             arch_config=t.arch_config, input_shape=t.input_shape,
                                             device=str(resolve_device(cfg.device)), output=t.output,
                                             input_dtype=t.input_dtype or "float32"),
                                t.output_kind or "logits", t.id) for t in teachers],
        data=typed_data(_data(transfer_set, teachers[0], store), dtype, spec.student),
        # a partial, not a lambda: with devices > 1 it travels to the other ranks' processes
        make_student=partial(_student, spec.student, input_shape, num_classes, init_path, dtype, text, hf_folder),
        input_dtype=dtype,
        num_classes=num_classes,
        config=cfg,
        omit_classes=spec.omit_classes,
        bias_correction=spec.bias_correction,
        baseline=spec.baseline if baseline is None else baseline,
        validation=(typed_data(_data(validation_set, teachers[0], store), dtype, spec.student)
                    if validation_set else None),
        cache=teacher_output_cache(store, settings.teacher_cache_max_bytes),
        max_device_bytes=_device_budget(cfg.device, settings.gpu_data_share),
        max_cpu_processes=settings.max_devices_per_job,
        quantization_aware_epochs=spec.quantization_aware_epochs if spec.quantization_aware else 0,
        # Per tenant: one tenant's entries never serve (and so never reveal) another's job.
        cache_keys=[cache_key(teacher=teacher_identity(t), data=data_identity(transfer_set, store),
                              preprocessing=(transfer_set.spec or {}).get("preprocessing"), owner=tenant)
                    for t in teachers],
    )
    return teachers, experiment


def typed_data(data: TransferData, dtype: str, student) -> TransferData:
    """The transfer set's inputs in the teachers' dtype (the API checked that the set's kind fits it)."""
    data.x_train = cast_inputs(data.x_train, dtype)
    data.x_test = None if data.x_test is None else cast_inputs(data.x_test, dtype)
    limit = getattr(student, "num_embeddings", None)
    for x in (data.x_train, data.x_test):
        if limit is not None and isinstance(x, np.ndarray) and x.size and (int(x.max()) >= limit or int(x.min()) < 0):
            raise ValueError(f"the transfer set holds ids from {int(x.min())} to {int(x.max())}, but the student's "
                             f"embedding has num_embeddings {limit} (ids 0..{limit - 1}); raise num_embeddings")
    return data


def _device_budget(device: str, share: float) -> int | None:
    import torch

    if resolve_device(device).type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free * share)
