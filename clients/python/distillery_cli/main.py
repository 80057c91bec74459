"""The `distillery` command: teachers, transfer sets and jobs from the terminal.

Every call goes through the generated OpenAPI client, so the CLI and the server cannot drift apart
without a test noticing. The server URL and API key come from flags or from DISTILLERY_URL and
DISTILLERY_API_KEY.
"""

import json
import signal
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from distillery_client import AuthenticatedClient, Client
from distillery_client.api.jobs import cancel_job, create_job, download_student, get_job, list_jobs
from distillery_client.api.teachers import create_teacher, list_teachers
from distillery_client.api.transfer_sets import create_transfer_set, list_transfer_sets
from distillery_client.models import (
    BodyCreateTeacher,
    CreateTransferSetFilesBody,
    CreateTransferSetFilesBodyKind,
    JobCreate,
    JobStatus,
    ProblemDetail,
    TransferSetBuiltinCreate,
)
from distillery_client.types import UNSET, File
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from distillery_cli.deployment_table import print_deployment

app = typer.Typer(help="Distillery: distil a teacher into a smaller student.", no_args_is_help=True)
teachers = typer.Typer(help="Upload and list teachers.", no_args_is_help=True)
transfer_sets = typer.Typer(help="Register and list transfer sets.", no_args_is_help=True)
jobs = typer.Typer(help="Submit, follow, cancel jobs and download students.", no_args_is_help=True)
app.add_typer(teachers, name="teachers")
app.add_typer(transfer_sets, name="transfer-sets")
app.add_typer(jobs, name="jobs")
admin = typer.Typer(help="Server-side administration: runs against the server's own database settings.",
                    no_args_is_help=True)
app.add_typer(admin, name="admin")

err = Console(stderr=True)
TERMINAL = {"succeeded", "failed", "cancelled"}
STATE: dict[str, Any] = {}


class Output(StrEnum):
    table = "table"
    json = "json"


@app.callback()
def main(
    url: Annotated[str, typer.Option(envvar="DISTILLERY_URL", help="Server URL.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="DISTILLERY_API_KEY", help="API key.")] = None,
) -> None:
    timeout = httpx.Timeout(300.0, connect=10.0)
    STATE["client"] = (AuthenticatedClient(base_url=url, token=api_key, timeout=timeout) if api_key
                       else Client(base_url=url, timeout=timeout))


def client() -> Client:
    return STATE["client"]


def ok(response) -> Any:
    """The parsed body of a successful call; a problem (or no answer) ends the command with its message."""
    parsed = response.parsed
    if isinstance(parsed, ProblemDetail) or response.status_code >= 400:
        detail = parsed.detail if isinstance(parsed, ProblemDetail) else response.content.decode(errors="replace")
        err.print(f"[red]error {int(response.status_code)}:[/red] {detail}")
        raise typer.Exit(1)
    return parsed


def call(fn, **kwargs):
    try:
        return ok(fn.sync_detailed(client=client(), **kwargs))
    except httpx.HTTPError as exc:
        err.print(f"[red]cannot reach the server:[/red] {exc} (set --url or DISTILLERY_URL)")
        raise typer.Exit(2) from None


def emit(obj: Any) -> None:
    print(json.dumps(obj.to_dict() if hasattr(obj, "to_dict") else obj, indent=2, default=str))


OutputOption = Annotated[Output, typer.Option("--output", "-O", help="table, or json ({data, count}).")]


def print_page(page, output: Output, title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A list as a table (ids never cut or wrapped, however narrow the terminal or pipe), or as JSON."""
    if output == Output.json:
        emit(page)
        return
    table = Table(Column(columns[0], no_wrap=True, min_width=max([len(r[0]) for r in rows] + [2])),
                  *columns[1:], title=f"{page.count} {title}")
    for row in rows:
        table.add_row(*row)
    console = Console()
    # A table wider than the terminal would be cut; a pipe has no width, so it gets what it needs.
    console.width = max(console.width, table.__rich_measure__(console, console.options).maximum)
    console.print(table)


def json_option(raw: str | None, what: str) -> dict:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"{what} must be JSON: {exc}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{what} must be a JSON object")
    return value


SUFFIX_FORMATS = {".pt2": "exported_program", ".onnx": "onnx", ".safetensors": "safetensors", ".zip": "huggingface",
                  ".tgz": "huggingface", ".gz": "huggingface"}


@teachers.command("add")
def teachers_add(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The teacher file.")],
    name: Annotated[str, typer.Option(help="A name for it.")],
    input_shape: Annotated[str | None, typer.Option(
        help="One sample's shape as JSON, e.g. [64] (not for huggingface: its input is token ids).")] = None,
    format: Annotated[str | None, typer.Option(
        help="torchscript, exported_program, onnx, safetensors or huggingface; default: from the file's suffix "
        "(.pt2, .onnx, .safetensors, .zip or .tar.gz: a save_pretrained folder, else torchscript).")] = None,
    max_length: Annotated[int | None, typer.Option(
        help="huggingface: the token ids a text is cut to (default: the tokenizer's, at most 512).")] = None,
    arch: Annotated[str | None, typer.Option(help="safetensors: the zoo architecture.")] = None,
    arch_config: Annotated[str | None, typer.Option(help='safetensors: JSON, e.g. {"num_classes": 10}.')] = None,
    output: Annotated[str | None, typer.Option(
        help="The output to distil from: its ONNX name (e.g. probabilities) or index. Default: the one float "
             "output shaped [batch, classes].")] = None,
    output_kind: Annotated[str, typer.Option(help="auto, logits, probabilities or log_probabilities.")] = "auto",
    input_dtype: Annotated[str, typer.Option(help="float32, float16, int64, int32 or bool (ids: int64).")] = "float32",
) -> None:
    """Upload a teacher network."""
    format = format or SUFFIX_FORMATS.get(file.suffix.lower(), "torchscript")
    if input_shape is None and format != "huggingface":
        raise typer.BadParameter("give --input-shape, one sample's shape as JSON, e.g. [64]")
    with open(file, "rb") as f:
        body = BodyCreateTeacher(file=File(payload=f, file_name=file.name), name=name,
                                 input_shape=input_shape if input_shape else UNSET,
                                 max_length=str(max_length) if max_length else UNSET, format_=format,
                                 arch=arch if arch else UNSET,
                                 arch_config=arch_config if arch_config else UNSET,
                                 output=output if output else UNSET, output_kind=output_kind,
                                 input_dtype=input_dtype)
        emit(call(create_teacher, body=body))


@teachers.command("list")
def teachers_list(limit: int = 100, offset: int = 0, output: OutputOption = Output.table) -> None:
    """List teachers."""
    page = call(list_teachers, limit=limit, offset=offset)
    print_page(page, output, "teachers", ["id", "name", "format", "input_shape", "classes"],
               [[t.id, t.name, t.format_, json.dumps(t.input_shape), str(t.num_classes)] for t in page.data])


@transfer_sets.command("add")
def transfer_sets_add(
    name: Annotated[str, typer.Option(help="A name for it.")],
    path: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False, show_default=False,
                                                help="The file to upload: .npz, .csv, .parquet, .jsonl (texts) "
                                                     "or an image archive.")] = None,
    builtin: Annotated[str | None, typer.Option(help="A built-in set: digits.")] = None,
    file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="The file (as PATH).")] = None,
    label_column: Annotated[str | None, typer.Option(
        help="Tables: the column of class numbers or names (default label; absent: unlabelled).")] = None,
    feature_columns: Annotated[str | None, typer.Option(
        help='Tables: JSON list of feature columns, e.g. ["age", "income"] (default: all the others).')] = None,
    text_column: Annotated[str | None, typer.Option(
        help="Text sets (.jsonl, or a .csv with --kind text): the column of texts (default text).")] = None,
    kind: Annotated[str | None, typer.Option(
        help="npz, table, text or image_archive; default: from the file's suffix (a .csv is a table).")] = None,
) -> None:
    """Register a transfer set: a file (data.npz, data.csv, data.parquet), or --builtin digits."""
    file = file or path
    if (builtin is None) == (file is None):
        raise typer.BadParameter("give exactly one of a file or --builtin")
    if builtin:
        emit(call(create_transfer_set, body=TransferSetBuiltinCreate(name=name, builtin=builtin)))
        return
    kinds = [k.value for k in CreateTransferSetFilesBodyKind]
    if kind is not None and kind not in kinds:
        raise typer.BadParameter(f"--kind is one of {', '.join(kinds)}")
    with open(file, "rb") as f:
        body = CreateTransferSetFilesBody(file=File(payload=f, file_name=file.name), name=name,
                                          label_column=label_column or UNSET,
                                          feature_columns=feature_columns or UNSET,
                                          text_column=text_column or UNSET,
                                          kind=CreateTransferSetFilesBodyKind(kind) if kind else UNSET)
        emit(call(create_transfer_set, body=body))


@transfer_sets.command("list")
def transfer_sets_list(limit: int = 100, offset: int = 0, output: OutputOption = Output.table) -> None:
    """List transfer sets."""
    page = call(list_transfer_sets, limit=limit, offset=offset)
    print_page(page, output, "transfer sets", ["id", "name", "kind", "samples", "test", "shape", "classes"],
               [[t.id, t.name, t.kind, str(t.num_samples), str(t.num_test), json.dumps(t.sample_shape),
                 str(t.num_classes)] for t in page.data])


@jobs.command("submit")
def jobs_submit(
    teacher: Annotated[list[str], typer.Option(help="Teacher id; repeat for an ensemble.")],
    transfer_set: Annotated[str, typer.Option(help="Transfer set id.")],
    student: Annotated[str, typer.Option(help='Student spec JSON.')] = '{"arch": "mlp", "hidden_sizes": [64, 64]}',
    hyperparameters: Annotated[str | None, typer.Option(help='JSON, e.g. {"temperature": 4, "epochs": 30}.')] = None,
    baseline: Annotated[bool, typer.Option(help="Also train the student from scratch.")] = False,
    idempotency_key: Annotated[str | None, typer.Option(help="Makes retrying this command safe.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the job with a live progress bar until it ends.")] = False,
) -> None:
    """Submit a distillation job."""
    body = JobCreate.from_dict({
        "teacher_ids": teacher, "transfer_set_id": transfer_set, "student": json_option(student, "--student"),
        "hyperparameters": json_option(hyperparameters, "--hyperparameters"), "baseline": baseline,
    })
    job = call(create_job, body=body, idempotency_key=idempotency_key or UNSET)
    if not wait:
        emit(job)
        return
    err.print(f"submitted [bold]{job.id}[/bold]")
    final = follow(job.id)
    emit(final)
    if final.status != "succeeded":
        raise typer.Exit(1)


RECONNECT_SECONDS = (0.5, 1, 2, 4, 8)  # waits between tries while the stream cannot be reached
GIVE_UP_AFTER = 12  # consecutive failed tries (about a minute and a half)


def follow(job_id: str):
    """Show the job's progress from its event stream until it ends; return the finished job. A dropped stream
    is reopened where it left off (``Last-Event-ID``); Ctrl-C stops following, never the job."""
    columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"),
               TextColumn("{task.fields[info]}"), TimeRemainingColumn()]
    job = call(get_job, job_id=job_id)
    try:
        with Progress(*columns, console=err, transient=False) as bar:
            task = bar.add_task(job_id, total=job.progress.total_epochs, info="queued")
            _stream_until_ended(job_id, lambda event: _show(bar, task, event))
    except KeyboardInterrupt:
        err.print(f"stopped following {job_id}; the job keeps running on the server.\n"
                  f"  follow it again:  distillery jobs watch {job_id}\n"
                  f"  cancel it:        distillery jobs cancel {job_id}")
        raise typer.Exit(128 + signal.SIGINT) from None
    job = call(get_job, job_id=job_id)
    colour = "green" if str(job.status) == "succeeded" else "red"
    err.print(f"[{colour}]{job_id} {job.status}[/{colour}]" + (f": {job.error}" if job.error else ""))
    return job


def _show(bar: Progress, task, event: dict) -> None:
    data = event.get("data") or {}
    if event.get("event") == "epoch":
        info = data.get("data", {})
        parts = [f"{info.get('run', '')} epoch {info.get('epoch')}"]
        if info.get("total_loss") is not None:
            parts.append(f"loss {info['total_loss']:.4f}")
        if info.get("val_accuracy") is not None:
            parts.append(f"val acc {info['val_accuracy']:.3f}")
        bar.update(task, advance=1, info=", ".join(parts))
    else:
        bar.update(task, info=data.get("type", event.get("event", "")))


def _stream_until_ended(job_id: str, on_event) -> None:
    """Read the job's events until the job has ended, reconnecting after the last event seen."""
    last_id, failures = None, 0
    http = client().get_httpx_client()
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        try:
            with http.stream("GET", f"/v1/jobs/{job_id}/events/stream", headers=headers, timeout=None) as response:
                if response.status_code != 200:
                    response.read()
                    ok(get_job.sync_detailed(client=client(), job_id=job_id))  # says why, and exits
                for event in _events(response):
                    failures = 0
                    last_id = event.get("id", last_id)
                    on_event(event)
        except (httpx.HTTPError, ValueError) as exc:
            failures += 1
            if failures > GIVE_UP_AFTER:
                err.print(f"[red]lost the event stream of {job_id}[/red] ({exc}); the job may still be running: "
                          f"distillery jobs watch {job_id}")
                raise typer.Exit(2) from None
            time.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS)) - 1])
            continue
        # The server ends the stream when the job ends; an end without that is a drop.
        if str(call(get_job, job_id=job_id).status) in TERMINAL:
            return


def _events(response: httpx.Response):
    current: dict = {}
    for line in response.iter_lines():
        if not line:
            if current:
                yield current
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = json.loads(value) if key == "data" else value


@jobs.command("watch")
def jobs_watch(job_id: str) -> None:
    """Follow a job's progress until it ends; exits non-zero unless it succeeds."""
    final = follow(job_id)
    emit(final)
    if final.status != "succeeded":
        raise typer.Exit(1)


@jobs.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, succeeded, failed or cancelled.")] = None,
    limit: int = 20,
    offset: int = 0,
    output: OutputOption = Output.table,
) -> None:
    """List jobs, newest first."""
    page = call(list_jobs, status=JobStatus(status) if status else UNSET, limit=limit, offset=offset)
    rows = []
    for j in page.data:
        result = j.result.to_dict() if j.result else {}
        acc = result.get("student", {}).get("test_accuracy")
        rows.append([j.id, str(j.status), f"{j.progress.epoch}/{j.progress.total_epochs}",
                     "" if acc is None else f"{acc:.4f}", j.created_at.strftime("%Y-%m-%d %H:%M:%S")])
    print_page(page, output, "jobs", ["id", "status", "progress", "student test acc", "created"], rows)


@jobs.command("show")
def jobs_show(job_id: str) -> None:
    """Show a job: status, progress, result; and on stderr, what the student buys."""
    job = call(get_job, job_id=job_id)
    emit(job)
    print_deployment(job.to_dict(), err)


@jobs.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a queued or running job."""
    emit(call(cancel_job, job_id=job_id))


@jobs.command("download")
def jobs_download(
    job_id: str,
    format: Annotated[str, typer.Option(
        help="exported_program, onnx, onnx_int8, safetensors, huggingface (text students) or torchscript "
        "(deprecated by PyTorch 2.14)."
    )] = "exported_program",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write it.")] = None,
) -> None:
    """Download a job's student (plain softmax, T = 1)."""
    response = download_student.sync_detailed(client=client(), job_id=job_id, format_=format)
    if response.status_code != 200:
        ok(response)
    ext = {"torchscript": "pt", "exported_program": "pt2", "onnx": "onnx", "safetensors": "safetensors",
           "onnx_int8": "int8.onnx", "huggingface": "zip"}.get(format, format)
    path = output or Path(f"{job_id}-student.{ext}")
    path.write_bytes(response.content)
    err.print(f"wrote {path} ({len(response.content)} bytes)")


def _admin_session():
    from sqlalchemy.orm import Session

    from core.db import get_engine

    return Session(get_engine(), expire_on_commit=False)


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else ""


@admin.command("create-key")
def admin_create_key(
    tenant: Annotated[str, typer.Option(help="The tenant's name; created if new.")],
    expires_in_days: Annotated[float | None, typer.Option(
        min=0, help="The key is refused (401) this many days from now; default: never.")] = None,
) -> None:
    """Make an API key for a tenant. Prints the key once: it is stored only as a hash."""
    from datetime import UTC, datetime, timedelta

    from app.auth import create_key

    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days is not None else None
    with _admin_session() as session:
        owner, key = create_key(session, tenant, expires_at=expires_at)
    until = f", valid until {_when(expires_at)}" if expires_at else ""
    err.print(f"created a key for tenant {owner.name!r} ({owner.id}){until}; it is shown once, keep it:")
    print(key)


@admin.command("list-keys")
def admin_list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    output: OutputOption = Output.table,
) -> None:
    """Every API key: its id, prefix, tenant, and when it was made, expires or was revoked (never the key)."""
    from datetime import UTC, datetime

    from app.auth import list_keys

    with _admin_session() as session:
        keys = list_keys(session, tenant_name=tenant)
    t = datetime.now(UTC)
    rows = [{"id": k.id, "prefix": k.prefix, "tenant": owner.name, "tenant_id": owner.id,
             "created_at": _when(k.created_at), "expires_at": _when(k.expires_at), "revoked_at": _when(k.revoked_at),
             "state": ("revoked" if k.revoked_at else "expired" if k.expires_at and k.expires_at <= t else "active")}
            for k, owner in keys]
    _print_rows(rows, output, "API keys", ["id", "prefix", "tenant", "state", "created_at", "expires_at"])


@admin.command("revoke-key")
def admin_revoke_key(
    key: Annotated[str, typer.Argument(help="The key's id (key_…) or prefix, as list-keys shows it.")],
) -> None:
    """Revoke an API key: its next request is refused with 401."""
    from app.auth import revoke_key

    with _admin_session() as session:
        try:
            revoked = revoke_key(session, key_ref=key)
        except LookupError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    err.print(f"revoked key {revoked.id} ({revoked.prefix}…) at {_when(revoked.revoked_at)}")
    emit({"id": revoked.id, "prefix": revoked.prefix, "revoked_at": _when(revoked.revoked_at)})


@admin.command("list-tenants")
def admin_list_tenants(output: OutputOption = Output.table) -> None:
    """Every tenant, with how many of its keys can still be used."""
    from app.auth import list_tenants

    with _admin_session() as session:
        tenants = list_tenants(session)
    rows = [{"id": t.id, "name": t.name, "active_keys": n, "created_at": _when(t.created_at)} for t, n in tenants]
    _print_rows(rows, output, "Tenants", ["id", "name", "active_keys", "created_at"])


def _print_rows(rows: list[dict], output: Output, title: str, columns: list[str]) -> None:
    if output == Output.json:
        emit({"data": rows, "count": len(rows)})
        return

    class _Page:
        count = len(rows)

    print_page(_Page, output, title, columns, [[str(row[c]) for c in columns] for row in rows])


if __name__ == "__main__":
    sys.exit(app())
