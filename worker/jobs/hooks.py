"""The hooks through which the engine reports a run as it happens: one class for a job's own runs, one for a
sweep member's, sharing a base that records epochs and events and polls for a cancel or a lost lease."""

import time

from sqlalchemy import select, update

from core import testhooks
from core.db import session_scope
from core.ids import new_id
from core.tables import Job, Metric, Run
from models.job_spec import JobSpec
from models.statuses import RunStatus
from worker.engine.pipeline import Hooks
from worker.jobs.experiment import artifact_store, save_weights
from worker.jobs.recording import Recorder, add_event
from worker.leases import Heartbeat, Lease, LeaseLost, fenced

CANCEL_POLL_SECONDS = 1.0
STEP_WRITE_SECONDS = 1.0  # step-level progress is written at most this often


class RunHooks(Hooks):
    """Writes what the experiment reports to the job's rows as it happens, every write fenced by ``lease``."""

    def __init__(self, job_id: str, lease: Lease, heartbeat: Heartbeat | None = None):
        self.job_id, self.lease, self.heartbeat = job_id, lease, heartbeat
        self.recorder = Recorder(job_id, lease)
        self.run_ids: dict[str, str] = {}
        self._polled, self._cancel = 0.0, False

    def _run_name(self, s, name: str) -> str:
        """The run's name in events and logs."""
        raise NotImplementedError

    def _epoch_progress(self, name: str, epoch: int) -> dict:
        """The job's progress columns once the run ``name`` finished ``epoch``."""
        raise NotImplementedError

    def epoch_done(self, name, epoch, metrics):
        with fenced(self.lease) as s:
            self._record_epoch(s, name, epoch, metrics)

    def _record_epoch(self, s, name: str, epoch: int, metrics: dict) -> None:
        self.recorder.epoch(s, self.run_ids[name], epoch, metrics, lambda s: self._run_name(s, name),
                            self._epoch_progress(name, epoch))

    def event(self, type_, message, data=None):
        self.recorder.event(type_, message, data)

    def should_stop(self):
        if self.heartbeat is not None and self.heartbeat.lost:
            raise LeaseLost()
        # Polled from the training loop: read the flag at most once a second.
        if not self._cancel and time.monotonic() - self._polled >= CANCEL_POLL_SECONDS:
            self._polled = time.monotonic()
            with session_scope() as s:
                self._cancel = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self._cancel


class JobHooks(RunHooks):
    """The runs of a job (distilled, and baseline if asked), with a checkpoint of every run after each epoch,
    so that a job restarted after its worker died goes on where it was.

    An epoch with a checkpoint is recorded in one transaction with it: the file goes to the store under a
    name of this lease's own, then the epoch's metrics, its event and the run's pointer to the file are
    committed together. A worker that dies in between leaves a file nobody reads, and the epoch is trained
    again from the previous checkpoint; one that dies after loses nothing. Epochs without a checkpoint (the
    last) are recorded when they end; recording an epoch twice is a no-op."""

    def __init__(self, job_id: str, spec: JobSpec, lease: Lease, heartbeat: Heartbeat | None = None):
        super().__init__(job_id, lease, heartbeat)
        self.epochs = spec.hyperparameters.epochs
        self.order = ["distilled", "baseline"] if spec.baseline else ["distilled"]
        self.store = artifact_store()
        self._step_written = 0.0

    def _offset(self, name: str) -> int:
        return self.order.index(name) * self.epochs if name in self.order else 0

    def _key(self, name: str, suffix: str) -> str:
        return f"checkpoints/{self.job_id}/{name}.{self.lease.token}.{suffix}"

    def _run_row(self, name: str) -> Run | None:
        with session_scope() as s:
            return s.scalar(select(Run).where(Run.job_id == self.job_id, Run.name == name))

    def _run_name(self, s, name):
        return name

    def _epoch_progress(self, name, epoch):
        return {"epoch": self._offset(name) + epoch, "step": 0}

    def run_started(self, name):
        existing = self._run_row(name)
        with fenced(self.lease) as s:
            if existing is None:
                self.run_ids[name] = new_id("run")
                s.add(Run(id=self.run_ids[name], job_id=self.job_id, name=name, status=RunStatus.RUNNING))
            else:  # a restarted job: its run goes on under the same row
                self.run_ids[name] = existing.id
                s.execute(update(Run).where(Run.id == existing.id).values(status=RunStatus.RUNNING))

    def resume_state(self, name):
        """The checkpoint the run's row records, if any. Metrics of epochs after it were recorded by an
        attempt that did not get further: those epochs are trained again, so their metrics go."""
        import torch

        key = self._run_row(name).checkpoint_key
        state = torch.load(self.store.open_local(key), weights_only=True) if key and self.store.exists(key) else None
        epoch = state["epoch"] if state else 0
        with fenced(self.lease) as s:
            s.execute(Metric.__table__.delete().where(Metric.run_id == self.run_ids[name], Metric.step > epoch))
            s.execute(update(Job).where(Job.id == self.job_id).values(epoch=self._offset(name) + epoch, step=0))
            if state:
                add_event(s, self.job_id, "resumed", f"{name}: resumed from the checkpoint after epoch {epoch}",
                          {"run": name, "epoch": epoch})
        return state

    def checkpoint(self, name, state):
        import torch

        epoch = state["epoch"]
        key = self._key(name, f"{epoch}.pt")
        with self.store.staging_path(".pt") as staged:
            torch.save(state, staged)
            self.store.commit(staged, key)
        testhooks.pause("after_checkpoint")
        metrics = {k: v for k, v in state["history"][-1].items() if k != "epoch"}
        with fenced(self.lease) as s:
            previous = s.scalar(select(Run.checkpoint_key).where(Run.id == self.run_ids[name]))
            self._record_epoch(s, name, epoch, metrics)
            s.execute(update(Run).where(Run.id == self.run_ids[name]).values(checkpoint_key=key))
        if previous and previous != key:
            self.store.delete(previous)

    def completed(self, name):
        from safetensors.torch import load_file

        run = self._run_row(name)
        if run is None or run.status != RunStatus.SUCCEEDED:
            return None
        key = run.weights_key or f"checkpoints/{self.job_id}/{name}.final.safetensors"  # rows from before 0009
        if not self.store.exists(key):
            return None
        return run.result, load_file(str(self.store.open_local(key)))

    def step_done(self, name, epoch, step, steps_per_epoch):
        if time.monotonic() - self._step_written < STEP_WRITE_SECONDS:
            return
        self._step_written = time.monotonic()
        self.recorder.progress(epoch=self._offset(name) + epoch - 1, step=step, steps_per_epoch=steps_per_epoch)

    def run_finished(self, name, result, student):
        key = self._key(name, "final.safetensors")
        save_weights(self.store, key, student)
        with fenced(self.lease) as s:
            s.execute(update(Run).where(Run.id == self.run_ids[name]).values(status=RunStatus.SUCCEEDED, result=result,
                                                                             weights_key=key))


class MemberHooks(RunHooks):
    """The run of a sweep member: its run row exists already, and its epochs add to a job-wide count shared
    with the other members. Members keep no checkpoints and report no steps (the engine's defaults), and a
    member's run row is finished with its weights by the sweep (worker/jobs/sweeps.py)."""

    def __init__(self, job_id: str, lease: Lease, run_id: str, heartbeat: Heartbeat | None = None):
        super().__init__(job_id, lease, heartbeat)
        self.run_id = run_id

    def run_started(self, name):
        self.run_ids[name] = self.run_id

    def _run_name(self, s, name):
        # The engine names every member's run "distilled": its row has the member's own name.
        return s.scalar(select(Run.name).where(Run.id == self.run_id))

    def _epoch_progress(self, name, epoch):
        return {"epoch": Job.epoch + 1}
