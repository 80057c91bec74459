"""The ORM tables. The database is the source of truth for every job's state.

Artifacts (teacher files, transfer-set files, exported students) live in the artifact store;
SQL keeps only their key and hash, as MLflow does.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps come back timezone-aware in UTC on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


DEFAULT_TENANT = "ten_default"  # owns everything when the server runs with auth off


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """Keys are stored as their sha256 only: they are long random strings, so a fast hash is enough."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown to operators to tell keys apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # NULL: never


class Artifact(Base):
    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Teacher(Base):
    __tablename__ = "teachers"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True, default=DEFAULT_TENANT,
                                           server_default=DEFAULT_TENANT)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(32))
    input_shape: Mapped[list[Any]] = mapped_column(JSON)
    num_classes: Mapped[int] = mapped_column(Integer)
    arch: Mapped[str | None] = mapped_column(String(64))
    arch_config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fixed_batch: Mapped[int | None] = mapped_column(Integer)  # exported for one batch size; run in chunks
    # which output is distilled from (None: its only one), what it holds, and what the teacher takes
    output: Mapped[str | None] = mapped_column(String(200))
    output_kind: Mapped[str] = mapped_column(String(32), default="logits", server_default="logits")
    input_dtype: Mapped[str] = mapped_column(String(16), default="float32", server_default="float32")
    artifact_id: Mapped[str] = mapped_column(ForeignKey("artifacts.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    artifact: Mapped[Artifact] = relationship(lazy="joined")


class TransferSet(Base):
    __tablename__ = "transfer_sets"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True, default=DEFAULT_TENANT,
                                           server_default=DEFAULT_TENANT)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    builtin: Mapped[str | None] = mapped_column(String(64))
    artifact_id: Mapped[str | None] = mapped_column(ForeignKey("artifacts.id"))
    num_samples: Mapped[int] = mapped_column(Integer)
    num_test: Mapped[int] = mapped_column(Integer)
    sample_shape: Mapped[list[Any]] = mapped_column(JSON)
    num_classes: Mapped[int | None] = mapped_column(Integer)
    labelled: Mapped[bool]
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # where the data is and how it is fed
    class_names: Mapped[list[Any] | None] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # content of on-disk data at registration
    dtype: Mapped[str] = mapped_column(String(16), default="float32", server_default="float32")  # of the samples
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    artifact: Mapped[Artifact | None] = relationship(lazy="joined")


class Job(Base):
    __tablename__ = "jobs"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True, default=DEFAULT_TENANT,
                                           server_default=DEFAULT_TENANT)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    transfer_set_id: Mapped[str] = mapped_column(ForeignKey("transfer_sets.id"))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    total_epochs: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer, default=0)  # within the current epoch
    steps_per_epoch: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(200))  # the worker running it now
    lease_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_token: Mapped[str | None] = mapped_column(String(32))  # new at every claim: fences the worker's writes
    sent_at: Mapped[datetime | None] = mapped_column()  # its task was last sent; NULL: queued, not sent yet
    request_hash: Mapped[str | None] = mapped_column(String(64))
    webhook_secret: Mapped[str | None] = mapped_column(String(64))  # signs deliveries to the job's webhook_url
    # What its students and checkpoints may take in the store, reserved against the tenant's quota at submit
    # and counted until it ends (app/quotas.py); an ended job counts the students it kept.
    reserved_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    teachers: Mapped[list["JobTeacher"]] = relationship(
        order_by="JobTeacher.position", cascade="all, delete-orphan", lazy="selectin"
    )
    runs: Mapped[list["Run"]] = relationship(
        order_by="Run.created_at", cascade="all, delete-orphan", lazy="selectin"
    )
    exports: Mapped[list["StudentExport"]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key", name="uq_jobs_tenant_idempotency_key"),)

    @property
    def teacher_ids(self) -> list[str]:
        return [link.teacher_id for link in self.teachers]


class StudentExport(Base):
    """The job's student in one deployment format."""

    __tablename__ = "student_exports"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[str] = mapped_column(String(32), primary_key=True)
    artifact_id: Mapped[str] = mapped_column(ForeignKey("artifacts.id"))

    artifact: Mapped[Artifact] = relationship(lazy="joined")


class JobTeacher(Base):
    __tablename__ = "job_teachers"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    teacher_id: Mapped[str] = mapped_column(ForeignKey("teachers.id"), index=True)


class Run(Base):
    """One trained student of a job: the distilled one, the from-scratch baseline, ..."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Sweep members run as their own tasks, so each holds a lease of its own (see worker/leases.py).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column()
    # Store keys written under the lease token of the worker that recorded them: the run's checkpoint to
    # resume from, and its final weights. A worker fenced out may leave files, never these keys.
    checkpoint_key: Mapped[str | None] = mapped_column(String(512))
    weights_key: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("job_id", "name"),)


class Metric(Base):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (UniqueConstraint("run_id", "key", "step"),)


class Event(Base):
    """What happened to a job, in order: queued, started, epoch done, exported, failed, ..."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """A tenant's receiver of job events. The secret is kept in clear: signing needs it (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[Any]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one receiver: written in the transaction that records the event (an outbox), so no
    event is lost between the database and the broker. Its id is the stable ``webhook-id`` of every try."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
                                                    index=True)  # NULL: the job's own webhook_url
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, delivered, failed
    attempts: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{at, status_code, error}]
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    sent_at: Mapped[datetime | None] = mapped_column()  # its task was last sent
    busy_until: Mapped[datetime | None] = mapped_column()  # a worker is trying it now
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
