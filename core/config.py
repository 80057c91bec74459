"""One settings object, read from environment variables prefixed ``DISTILLERY_``.

The defaults are the embedded column of DESIGN.md: everything under ``./var/`` and no
servers. Production only changes URLs.
"""

import logging
import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.sandbox_choice import REFUSAL, announce, sandbox_mode
from models.bounded import ParseLimits
from models.json_bounds import MAX_JSON_DEPTH
from models.sandbox.jail import SandboxPolicy, SandboxUnavailable, usable_cores


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISTILLERY_", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Where the embedded defaults keep their files.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<var_dir>/distillery.sqlite3."
    )
    broker_url: str | None = Field(
        None, description="Celery broker URL; default sqla+sqlite:///<var_dir>/broker.sqlite3 (no server)."
    )
    artifact_dir: Path | None = Field(None, description="Artifact store directory; default <var_dir>/artifacts. "
                                      "DISTILLERY_ARTIFACT_URL, when set, wins.")
    artifact_url: str | None = Field(
        None, description="Where artifacts are stored: a local path or file:// URL (default: the artifact "
        "directory), or s3://bucket/prefix on any S3-compatible service (see the DISTILLERY_S3_* settings).",
    )
    s3_endpoint_url: str | None = Field(None, description="Endpoint of an S3-compatible service (MinIO, Ceph); "
                                        "unset: AWS_ENDPOINT_URL or Amazon S3.")
    s3_region: str | None = Field(None, description="Region of the bucket; unset: AWS_REGION / AWS_DEFAULT_REGION.")
    s3_access_key_id: str | None = Field(None, description="Access key; unset: AWS_ACCESS_KEY_ID, the AWS "
                                         "config files or the instance role.")
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret key; unset: AWS_SECRET_ACCESS_KEY "
                                                   "and the like.")
    s3_block_size: int = Field(
        64 * 1024**2, ge=5 * 1024**2, description="Part size of multipart uploads: a file larger than twice this "
        "goes up in parts of this size (S3's smallest part is 5 MiB).",
    )
    local_cache_dir: Path | None = Field(
        None, description="This process's local copies of what it read from the store: files and unpacked image "
        "archives in files/, teacher outputs in teacher_outputs/ (object stores only), a text set's token ids in "
        "text_ids/; default <var_dir>/cache.",
    )
    local_cache_max_bytes: int = Field(
        20 * 1024**3, gt=0, description="Size limit of each part of the local cache (files, teacher outputs); the "
        "least recently used copies are removed past it and fetched again when next needed.",
    )
    queue: str = Field("gpu", description="Celery queue the API sends jobs to and GPU workers listen on.")
    multi_device_queue: str | None = Field(
        None, description="Celery queue of jobs with hyperparameters.devices > 1, for workers that own several "
        "devices; unset: they go to DISTILLERY_QUEUE like every job.")
    lease_seconds: float = Field(60, gt=0, description="A running job's lease; its worker renews it every quarter.")
    max_attempts: int = Field(3, ge=1, description="Times a job whose worker vanished is started again.")
    reaper_interval_seconds: float = Field(15, gt=0, description="How often the API looks for expired leases.")
    requeue_after_seconds: float = Field(
        300, gt=0, description="A job or sweep member still queued this long after its task was sent is sent "
        "again (the broker may have lost it); a second delivery is harmless.",
    )
    webhook_queue: str = Field("webhooks", description="Celery queue that webhook deliveries go to; a worker "
                               "that does not train must listen on it (make run starts one of its own), so that a "
                               "slow receiver never holds a worker that trains.")
    webhook_allow_private: bool = Field(
        False, description="Allow webhook URLs on loopback, link-local and private addresses (tests, one-host "
        "setups). Off, such URLs are refused when given and again when each delivery resolves them.",
    )
    webhook_max_attempts: int = Field(8, ge=1, le=30, description="Tries per webhook delivery before it fails.")
    webhook_backoff_seconds: float = Field(
        10, gt=0, description="Wait before a delivery's second try; each later wait doubles, up to an hour.",
    )
    webhook_timeout_seconds: float = Field(
        10, gt=0, description="How long one try of a webhook delivery may take in all (connecting, sending, the "
        "receiver's answer): a receiver still answering then is cut off, and the try counts as failed.")
    db_connect_timeout_seconds: float = Field(5, gt=0, description="PostgreSQL connect timeout; also how long a "
                                              "request waits for a pooled connection.")
    db_statement_timeout_seconds: float = Field(
        30, gt=0, description="PostgreSQL statement and idle-in-transaction timeout; SQLite's busy timeout.",
    )
    request_deadline_seconds: float = Field(
        20, gt=0, description="A request that has not started its answer after this long (a database that hangs) "
        "is answered 503; uploads are exempt.",
    )
    health_timeout_seconds: float = Field(3, gt=0, description="/healthz and /readyz answer 503 after this long.")
    test_hooks: bool = Field(False, description="Test only: honour DISTILLERY_TEST_PAUSE_AT.")
    test_pause_at: str | None = Field(None, description="Test only: a pause point (see core/testhooks.py).")
    test_pause_seconds: float = Field(3600, description="Test only: how long a pause point sleeps.")
    task_time_limit_seconds: int = Field(7 * 24 * 3600, gt=0, description="Hard Celery time limit of a job.")
    auth_required: bool = Field(
        False, description="Require an API key on every request. Off: requests without a key act as the "
        "default tenant (fine on one machine, never on a network).",
    )
    max_upload_bytes: int = Field(512 * 1024 * 1024, description="Largest accepted upload; larger is a 413.")
    worker_device: str = Field("auto", description="Device a worker trains on when a job says 'auto'.")
    data_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Directories transfer sets may name on the data volume, separated "
        "by ':' (image folders, torchvision datasets). Empty: none can be read from disk.",
    )
    archive_max_files: int = Field(100_000, gt=0, description="Most files an uploaded archive may hold.")
    archive_max_bytes: int = Field(4 * 1024**3, gt=0, description="Most bytes an uploaded archive may unpack to.")
    in_memory_max_bytes: int = Field(
        2 * 1024**3, gt=0, description="Image transfer sets larger than this (decoded, as float32) are streamed "
        "from disk by a DataLoader instead of being loaded whole.",
    )
    max_devices_per_job: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1,
        description="Most processes a CPU worker starts for one job's hyperparameters.devices (a CUDA worker: its "
        "GPUs); a job asking for more fails, saying so.")
    dataloader_workers: int = Field(2, ge=0, le=64, description="Worker processes reading streamed sets.")
    gpu_data_share: float = Field(
        0.5, gt=0, le=1, description="Share of the GPU's free memory a transfer set may occupy on the device; "
        "larger sets stay in pinned host memory and are copied batch by batch.",
    )
    batch_sweep_members: Literal["never", "cuda", "always"] = Field(
        "never", description="Whether a worker that starts a sweep member also takes the sweep's other queued "
        "members and trains them together as one batched model: never, on CUDA devices only, or always.",
    )

    # Tenants' models run in a sandbox (models/sandbox); see docs/security.md.
    sandbox_fallback: Literal["refuse", "loopback", "unsandboxed"] = Field(
        "loopback", description="Where bubblewrap cannot make a sandbox: refuse tenants' models (503); loopback: "
        "run them rlimits-only (the static checks, then a plain child process with the memory, CPU and time "
        "limits, no namespaces) only on one user's own machine, i.e. auth off and an API that make run bound to "
        "loopback, and refuse them anywhere else; unsandboxed: run them rlimits-only whatever the server "
        "(one trusted user only).",
    )
    sandbox_memory_bytes: int = Field(8 * 1024**3, gt=0, description="Memory a sandboxed model may allocate.")
    sandbox_cpu_seconds: int = Field(24 * 3600, gt=0, description="CPU time a job's sandboxed teacher may use.")
    sandbox_call_seconds: float = Field(
        600, gt=0, description="Wall-clock limit of one sandboxed teacher call in a worker (a batch, or loading)."
    )
    sandbox_threads: int = Field(0, ge=0, description="Threads a sandboxed model uses; 0: the cores available.")
    sandbox_scratch_bytes: int = Field(
        1024**3, ge=16 * 1024**2, description="A sandboxed model's private /tmp (a tmpfs, so memory) and the "
        "largest file it may write. A Hugging Face teacher is unpacked there, so this also bounds what its archive "
        "may unpack to (a BERT-base checkpoint is some 440 MB).",
    )
    probe_seconds: float = Field(
        60, gt=0, description="Wall-clock limit of each step of an upload's check (loading, each probe batch); "
        "the whole check may use this many seconds of CPU time per thread.",
    )
    unsafe_skip_model_checks: bool = Field(
        False, description="TESTS ONLY: skip the static checks of uploaded models, so that the sandbox alone is "
        "tested. Never set it on a server.",
    )
    # first hour: make run without bubblewrap (core/sandbox_choice.py)
    bind_host: str | None = Field(
        None, description="The address the API listens on, as make run (app.launch) tells its API and worker "
        "from $HOST. Unset (a server started another way): not known to be loopback, so the loopback sandbox "
        "fallback refuses uploads.",
    )
    # engine speed
    worker_threads: int = Field(
        0, ge=0, le=1024, description="Intra-op threads of a worker's pool process (torch.set_num_threads), set "
        "when it starts; 0: OMP_NUM_THREADS where the environment sets it, else the cores available to the worker.",
    )

    @property
    def worker_thread_count(self) -> int:
        if self.worker_threads:
            return self.worker_threads
        omp = os.environ.get("OMP_NUM_THREADS", "").strip()
        if omp.isdigit() and int(omp) > 0:
            return int(omp)
        return usable_cores()

    # what the student buys: the deployment report of every succeeded job (worker/jobs/deployment.py)
    deployment_report: bool = Field(
        True, description="Measure every succeeded job's teacher and students (parameters, file sizes, latency at "
        "batch 1, throughput at batch 64) into result.deployment. Off: no report, and no ONNX export unless asked.",
    )
    deployment_threads: int = Field(
        1, ge=1, le=256, description="Threads every network of a deployment report is timed on (the teacher in its "
        "sandbox, the students in ONNX Runtime or torch): one count for all, so that their ratios are fair.",
    )
    deployment_latency_calls: int = Field(
        500, ge=5, le=10_000, description="The fewest timed batch-1 calls per network in a deployment report, in 5 "
        "rounds of at least 50 ms each (a tenth as many at batch 64, at least 5), after 50 untimed warm-up calls.",
    )
    deployment_max_seconds: float = Field(
        2.0, gt=0, description="Most seconds a deployment report times each network at each batch size; a slow "
        "network is timed on fewer calls (at least 5).",
    )

    # operating (see docs/operations.md)
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as text for people (make run) or as JSON lines for a log pipeline.",
    )
    worker_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of a worker's Prometheus endpoint, served by its main process for "
        "all its pool processes (prometheus-client multiprocess mode); 0: none.",
    )
    max_active_jobs: int = Field(20, gt=0, description="Most queued plus running jobs a tenant may have; more is "
                                 "a 429 with Retry-After.")
    max_stored_bytes: int = Field(
        50 * 1024**3, gt=0, description="Most bytes a tenant may keep in the store (teachers, transfer sets, "
        "students); an upload or job past it is a 413 naming what to delete.",
    )
    rate_limit: str = Field(
        "30/second;1200/minute", description="Requests allowed per API key ('limits' notation, ';' between "
        "windows); empty: none. Requests without a key (auth off) are not limited.",
    )
    rate_limit_storage: str = Field(
        "memory://", description="Where rate-limit counters live: memory:// (one API process) or a redis:// URL "
        "shared by every API process.",
    )
    teacher_cache_max_bytes: int = Field(
        20 * 1024**3, gt=0, description="Size limit of the teacher-output cache; the least recently used entries "
        "are evicted past it, and rebuilt by the next job that needs them.",
    )
    staging_grace_seconds: float = Field(
        6 * 3600, gt=0, description="The orphan sweep never touches a file younger than this: an upload or job may "
        "still be writing it before its row is committed.",
    )
    orphan_sweep_interval_seconds: float = Field(
        3600, gt=0, description="How often the API's reaper sweeps store files that no row refers to.",
    )

    # limits before work
    npz_max_bytes: int = Field(
        2 * 1024**3, gt=0, description="Most bytes the arrays of an uploaded .npz may take once decoded (read off "
        "each member's .npy header before anything is decompressed); more is a 413.",
    )
    archive_max_ratio: float = Field(
        200, gt=0, description="Most an uploaded zip, tar or .npz may expand relative to its compressed size "
        "(each zip member, and a whole archive past its first MiB); more is a 413.",
    )
    max_student_parameters: int = Field(100_000_000, gt=0, description="Most parameters a student may have.")
    max_student_activation_bytes: int = Field(
        512 * 1024**2, gt=0, description="Most bytes of activations one sample may need in a student's forward "
        "pass (an estimate made from the spec before anything is built).",
    )
    max_num_classes: int = Field(100_000, gt=0, description="Most classes a teacher or student may have.")
    max_input_elements: int = Field(
        16 * 1024**2, gt=0, description="Most elements one input sample may have (the product of its shape).",
    )

    # HTTP edge bounds (issue 25): what a request may cost before its key is known, and while it lasts. See
    # docs/security.md, "HTTP edge bounds".
    keyless_rate_limit: str = Field(
        "10/second;120/minute", description="Requests to /v1 without a valid API key (none on a server that "
        "requires one, or a wrong one) allowed per client address ('limits' notation, ';' between windows), "
        "counted in DISTILLERY_RATE_LIMIT_STORAGE; past it 429 instead of 401. Empty: none. Behind a proxy, run "
        "uvicorn with --proxy-headers so that the address is the client's.",
    )
    max_json_bytes: int = Field(
        1024 * 1024, gt=0, description="Largest request body that is not a multipart upload (a JSON document); "
        "larger is a 413, refused before any of it is parsed.",
    )
    max_json_depth: int = Field(
        MAX_JSON_DEPTH, ge=4, le=500, description="Deepest nesting of arrays and objects in a JSON body or a "
        "JSON form field (input_shape, arch_config, preprocessing); deeper is a 422, measured before parsing.",
    )
    upload_deadline_seconds: float = Field(
        3600, gt=0, description="A request body (an upload above all) must have arrived in full this long after "
        "the request began; later, it is cut with a 408 and what was spooled of it is removed.",
    )
    upload_min_bytes_per_second: int = Field(
        16 * 1024, ge=0, description="Slowest a request body may arrive, measured over each "
        "DISTILLERY_UPLOAD_RATE_WINDOW_SECONDS spent waiting for the client; slower is cut with a 408 and what "
        "was spooled is removed. 0: only the deadline holds.",
    )
    upload_rate_window_seconds: float = Field(
        30, gt=0, description="The window over which DISTILLERY_UPLOAD_MIN_BYTES_PER_SECOND is measured: also "
        "the longest a body may stall without sending a byte.",
    )
    max_streams_per_key: int = Field(
        8, ge=1, description="Event streams (GET /v1/jobs/{id}/events/stream) one API key may hold open at once, "
        "per API process; more is a 429. A stream holds no database connection between its polls.",
    )

    # Decoded sizes, model checks and sandboxes (issue 25; docs/security.md): what a tenant's file may decode
    # to, the child process that reads it, and how many sandboxes and checks run at once.
    parse_memory_bytes: int = Field(
        3 * 1024**3, gt=0, description="Memory (RLIMIT_DATA) of the child process that reads an uploaded file "
        "(an .npz, an image archive, a model's static check) before the API records it; a file that needs more "
        "is a 413 or 422. Keep it above DISTILLERY_NPZ_MAX_BYTES.",
    )
    parse_cpu_seconds: int = Field(
        60, gt=0, description="CPU time (RLIMIT_CPU) of that child process; a file whose check needs more is "
        "refused. Its wall-clock limit is five times this.",
    )
    image_max_pixels: int = Field(
        4096 * 4096, gt=0, description="Most pixels one image of a transfer set may have, read from its header "
        "before it is decoded, and most pixels preprocessing.resize may make of it; more is a 413.",
    )
    image_max_set_pixels: int = Field(
        2**31, gt=0, description="Most pixels all images of an uploaded or registered image set may have together "
        "(each at the larger of its own and its resized size); more is a 413.",
    )
    sandbox_max_concurrent: int = Field(
        4, ge=1, description="Most upload checks (a teacher's sandbox, or the child reading a transfer set) one "
        "host runs at once, counted across the API's processes; more wait, then are answered 429.",
    )
    sandbox_max_per_tenant: int = Field(
        2, ge=1, description="Most upload checks one tenant may have running at once on a host; more wait, then "
        "are answered 429.",
    )
    sandbox_queue_seconds: float = Field(
        10, ge=0, description="How long an upload waits for a free check slot before it is answered 429 with "
        "Retry-After.",
    )
    sandbox_slot_dir: Path | None = Field(
        None, description="Where the API's processes on one host count check slots (lock files); default "
        "<var_dir>/sandbox-slots.",
    )

    def parse_limits(self) -> ParseLimits:
        """The limits of the child process that reads a tenant's file."""
        return ParseLimits(memory_bytes=self.parse_memory_bytes, cpu_seconds=self.parse_cpu_seconds,
                           wall_seconds=5.0 * self.parse_cpu_seconds)

    # tabular transfer sets (.csv, .parquet): read in a child process under these limits
    table_max_rows: int = Field(
        2_000_000, gt=0, description="Most rows an uploaded .csv or .parquet transfer set may have (a Parquet "
        "file's are read off its footer before any data; a CSV's are counted while it is read); more is a 413.",
    )
    table_max_columns: int = Field(
        10_000, gt=0, description="Most columns an uploaded .csv or .parquet transfer set may have; more is a 413.",
    )
    table_reader_memory_bytes: int = Field(
        4 * 1024**3, gt=0, description="Memory limit (RLIMIT_DATA) of the child process that parses an uploaded "
        "table; a file that needs more is refused with a 413. Its decoded features are bounded by "
        "DISTILLERY_NPZ_MAX_BYTES too.",
    )
    table_reader_seconds: float = Field(
        300, gt=0, description="Wall-clock limit of the child process that parses an uploaded table.",
    )

    def sandbox_policy(self, *, probe: bool = False) -> SandboxPolicy:
        """How tenants' models run here; raises SandboxUnavailable when no sandbox can be made and the
        operator asked to refuse models then."""
        chosen = sandbox_mode(self)
        if chosen == "unavailable":
            raise SandboxUnavailable(REFUSAL)
        mode = "bwrap" if chosen == "namespaces" else "process"
        policy = SandboxPolicy(mode=mode, memory_bytes=self.sandbox_memory_bytes, threads=self.sandbox_threads,
                               scratch_bytes=self.sandbox_scratch_bytes, checks=not self.unsafe_skip_model_checks)
        if probe:
            return replace(policy, call_seconds=self.probe_seconds,
                           cpu_seconds=int(self.probe_seconds * policy.thread_count) + 5)
        return replace(policy, call_seconds=self.sandbox_call_seconds, cpu_seconds=self.sandbox_cpu_seconds)

    @field_validator("rate_limit", "keyless_rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str) -> str:
        """A typo here must stop the API at start, not turn every request into an error later."""
        if value.strip():
            from limits import parse_many

            try:
                parse_many(value.replace(";", ","))
            except ValueError as exc:
                raise ValueError(f"not a rate limit such as '30/second;1200/minute': {exc}") from None
        return value

    @field_validator("data_roots", mode="before")
    @classmethod
    def _split_roots(cls, value):
        if isinstance(value, str):
            return [p for p in value.split(os.pathsep) if p.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.var_dir / 'distillery.sqlite3').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{(self.var_dir / 'broker.sqlite3').resolve()}"

    @property
    def resolved_artifact_dir(self) -> Path:
        return (self.artifact_dir or self.var_dir / "artifacts").resolve()

    @property
    def resolved_artifact_url(self) -> str:
        return self.artifact_url or str(self.resolved_artifact_dir)

    @property
    def resolved_local_cache_dir(self) -> Path:
        return (self.local_cache_dir or self.var_dir / "cache").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def announce_sandbox(settings: Settings, log: logging.Logger) -> None:
    """Say at start whether tenants' models are isolated here (see core/sandbox_choice.py)."""
    announce(settings, log)
