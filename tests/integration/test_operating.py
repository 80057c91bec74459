"""What an operator sees of one real job, through a real API server and Celery worker (prefork pool): the
Prometheus counters of both change by exactly that job, the worker's samples/s gauge moves while it trains,
and the JSON logs carry the job's and the request's ids."""

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.stack import ROOT, free_port, running_stack

pytestmark = pytest.mark.slow

EPOCHS = 40


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(url, timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def json_lines(log: str) -> list[dict]:
    lines = []
    for line in log.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture(scope="module")
def operated(tmp_path_factory):
    metrics_port = free_port()
    env = {"DISTILLERY_LOG_FORMAT": "json", "DISTILLERY_AUTH_REQUIRED": "true"}
    with running_stack("embedded", tmp_path_factory.mktemp("operated"), env,
                       worker_env={"DISTILLERY_WORKER_METRICS_PORT": str(metrics_port)}) as stack:
        cli_env = {**stack.env, "PYTHONPATH": os.pathsep.join([str(ROOT / "clients" / "python"), str(ROOT)])}
        done = subprocess.run([sys.executable, "-m", "distillery_cli.main", "admin", "create-key", "--tenant", "ops"],
                              capture_output=True, text=True, check=True, env=cli_env, cwd=ROOT)
        stack.wait_ready("worker")
        yield stack, done.stdout.strip(), f"http://127.0.0.1:{metrics_port}/metrics"


def test_one_job_moves_the_metrics_by_exactly_itself_and_logs_its_ids(operated, teacher_file):
    stack, key, worker_metrics = operated
    client = stack.client(headers={"Authorization": f"Bearer {key}"})
    with open(teacher_file, "rb") as f:
        teacher = client.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": "[64]"})
    ts = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()["id"]
    worker_before, api_before = scrape(worker_metrics), scrape(f"{stack.url}/metrics")

    # Batch 16: a few seconds of epochs, for the speed gauge to be read while they run.
    body = {"teacher_ids": [teacher.json()["id"]], "transfer_set_id": ts, "export_formats": ["torchscript"],
            "student": {"arch": "mlp", "hidden_sizes": [64, 64]},
            "hyperparameters": {"epochs": EPOCHS, "batch_size": 16}}
    r = client.post("/v1/jobs", json=body, headers={"X-Request-ID": "req-ops-submit-1"})
    assert r.status_code == 202, r.text
    assert r.headers["x-request-id"] == "req-ops-submit-1"
    job_id = r.json()["id"]

    speeds, status = [], "queued"
    deadline = time.monotonic() + 300
    while status not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline, stack.log("worker")
        status = client.get(f"/v1/jobs/{job_id}").json()["status"]
        if status == "running":
            speeds.append(value(scrape(worker_metrics), "distillery_worker_samples_per_second"))
        time.sleep(0.05)
    assert status == "succeeded", stack.log("worker")
    assert max(speeds) > 0, speeds  # read while the job ran, from the pool process through the main one
    worker_after, api_after = scrape(worker_metrics), scrape(f"{stack.url}/metrics")

    def moved(before, after, name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(worker_before, worker_after, "distillery_worker_jobs_started_total") == 1
    assert moved(worker_before, worker_after, "distillery_worker_jobs_finished_total", status="succeeded") == 1
    assert moved(worker_before, worker_after, "distillery_worker_epochs_total") == EPOCHS
    assert moved(worker_before, worker_after, "distillery_worker_job_runtime_seconds_count") == 1
    assert value(worker_after, "distillery_worker_samples_per_second") == 0  # idle again
    time.sleep(5.1)  # the API reads job counts from the database at most every 5 s
    api_after = scrape(f"{stack.url}/metrics")
    assert moved(api_before, api_after, "distillery_jobs", status="succeeded") == 1
    assert value(api_after, "distillery_queue_depth") == 0
    assert moved(api_before, api_after, "distillery_job_duration_seconds_count") == 1
    assert moved(api_before, api_after, "distillery_teacher_cache_misses_total") == 1
    assert value(api_after, "distillery_store_bytes", area="teachers") == teacher_file.stat().st_size
    assert value(api_after, "distillery_http_requests_total", route="/v1/jobs/{job_id}", method="GET",
                 status="200") >= 1
    assert not any(job_id in k[0] or job_id in str(k[1]) for k in api_after)  # ids never become labels

    # Logs: the worker's epoch lines carry the job and its tenant; the request's lines carry its id.
    tenant = next(line["tenant"] for line in json_lines(stack.log_since_start("api"))
                  if line.get("request_id") == "req-ops-submit-1" and line.get("job_id") == job_id)
    epochs = [line for line in json_lines(stack.log_since_start("worker")) if "epoch" in line]
    assert len(epochs) == EPOCHS
    assert all(line["job_id"] == job_id and line["tenant"] == tenant and line["run"] == "distilled"
               for line in epochs), epochs[0]
    assert tenant.startswith("ten_") and tenant != "ten_default"

    r = client.get(f"/v1/jobs/{job_id}", headers={"X-Request-ID": "req-ops-get-2"})
    assert r.headers["x-request-id"] == "req-ops-get-2"
    time.sleep(0.5)
    api_lines = json_lines(stack.log_since_start("api"))
    mine = [line for line in api_lines if line.get("request_id") == "req-ops-get-2"]
    assert mine and any(f"/v1/jobs/{job_id}" in line["message"] for line in mine)  # the access log line
    submit = [line["message"] for line in api_lines if line.get("request_id") == "req-ops-submit-1"]
    assert any("queued" in m for m in submit) and any("POST /v1/jobs" in m for m in submit)
    generated = client.get("/v1/jobs").headers["x-request-id"]  # made when none is sent
    assert len(generated) == 32 and generated not in ("req-ops-get-2", "req-ops-submit-1")
