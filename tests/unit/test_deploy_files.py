"""Dockerfile and docker-compose.yml, checked statically (no Docker engine runs here): they parse,
name the services, and every path, module and setting they mention exists in the project."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [(m.group(1).upper(), m.group(2).strip())
            for m in re.finditer(r"^([A-Z]+)\s+(.*)$", text, re.MULTILINE)]


def test_compose_names_the_services_with_health_checks(compose):
    assert set(compose["services"]) == {"api", "worker", "webhooks", "redis", "postgres", "flower", "minio",
                                        "minio-setup"}
    for name, service in compose["services"].items():
        if service.get("restart") == "no":  # a one-shot: what needs it waits for it to complete instead
            assert all(s.get("depends_on", {}).get(name) == {"condition": "service_completed_successfully"}
                       for s in (compose["services"]["api"], compose["services"]["worker"])), name
        else:
            assert "healthcheck" in service, name


def test_worker_reserves_a_gpu(compose):
    devices = compose["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in d["capabilities"] for d in devices)


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = {v.split(":")[0] for s in compose["services"].values() for v in s.get("volumes", [])}
    assert used <= declared and declared <= used
    assert compose["services"]["api"]["volumes"] == compose["services"]["worker"]["volumes"]


def test_the_store_is_a_bucket_and_the_api_and_workers_share_no_volume_but_the_datasets(compose):
    env = compose["x-distillery-env"]
    assert env["DISTILLERY_ARTIFACT_URL"].startswith("s3://") and "DISTILLERY_ARTIFACT_DIR" not in env
    bucket = env["DISTILLERY_ARTIFACT_URL"].removeprefix("s3://").split("/")[0]
    assert env["DISTILLERY_S3_ENDPOINT_URL"] == "http://minio:9000" and "minio" in compose["services"]
    setup = " ".join(compose["services"]["minio-setup"]["entrypoint"])
    assert f"mc mb --ignore-existing local/{bucket}" in setup
    minio_env = compose["services"]["minio"]["environment"]
    assert (env["DISTILLERY_S3_ACCESS_KEY_ID"], env["DISTILLERY_S3_SECRET_ACCESS_KEY"]) == (
        minio_env["MINIO_ROOT_USER"], minio_env["MINIO_ROOT_PASSWORD"])
    assert f"{minio_env['MINIO_ROOT_USER']} {minio_env['MINIO_ROOT_PASSWORD']}" in setup
    for name in ("api", "worker", "webhooks"):
        assert compose["services"][name].get("volumes", []) in ([], ["datasets:/datasets:ro"]), name


def test_compose_settings_are_real_settings(compose):
    fields = set(Settings.model_fields)
    for name in ("api", "worker"):
        for key in compose["services"][name]["environment"]:
            assert key.startswith("DISTILLERY_") and key.removeprefix("DISTILLERY_").lower() in fields, key


def _module_refs(command: str) -> list[str]:
    return re.findall(r"\b((?:app|worker|models)(?:\.\w+)+:\w+)", command)


def test_commands_refer_to_modules_that_exist(compose):
    commands = [" ".join(s["command"]) for s in (compose["services"]["api"], compose["services"]["worker"])]
    commands += [arg for op, arg in dockerfile_instructions() if op == "CMD"]
    refs = [ref for c in commands for ref in _module_refs(c)]
    assert {"app.main:app", "worker.celery_app:celery_app"} <= set(refs)
    for ref in refs:
        module, attr = ref.split(":")
        assert hasattr(importlib.import_module(module), attr), ref
    assert "alembic upgrade head" in commands[0] and (ROOT / "alembic.ini").is_file()
    assert f"-Q {compose['services']['api']['environment']['DISTILLERY_QUEUE']}" in commands[1]


def test_dockerfile_copies_paths_that_exist():
    copies = [arg for op, arg in dockerfile_instructions() if op == "COPY"]
    assert copies
    for arg in copies:
        sources = shlex.split(arg)[:-1]
        for src in sources:
            assert (ROOT / src).exists(), src
    copied = {shlex.split(a)[0] for a in copies}
    assert {"app", "worker", "models", "migrations", "alembic.ini", "clients"} <= copied


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make run" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)


def test_the_image_and_its_services_can_make_the_model_sandbox(compose):
    runs = " ".join(arg for op, arg in dockerfile_instructions() if op == "RUN")
    assert re.search(r"apt-get install .*\bbubblewrap\b", runs)
    for name in ("api", "worker"):
        assert "seccomp=unconfined" in compose["services"][name]["security_opt"], name
    assert "bubblewrap" in (ROOT / ".ci" / "run").read_text()


def test_files_the_readme_blocks_write_are_ignored_by_git():
    """Running the walkthrough, CLI and client blocks from the repository root leaves `git status` clean."""
    import subprocess

    readme = (ROOT / "README.md").read_text()
    blocks = "".join(re.findall(r"<!-- (?:walkthrough|cli|client):start -->(.*?)<!-- \w+:end -->", readme, re.S))
    written = set(re.findall(r"(?:-o|--output|open\()\s*['\"]?([\w.]+\.(?:pt2?|onnx))", blocks))
    written |= set(re.findall(r"models\.examples digits-teacher ([\w.]+)", blocks))
    assert {"teacher.pt2", "student.pt2", "student.onnx"} <= written, written
    for name in [*written, ".schemathesis/x"]:
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT).returncode == 0, name


def test_compose_runs_flower_on_the_broker_and_exposes_the_workers_metrics(compose):
    env = compose["x-distillery-env"]
    flower = compose["services"]["flower"]
    assert f"--broker={env['DISTILLERY_BROKER_URL']}" in flower["command"] and "flower" in flower["command"]
    assert all(p.startswith("127.0.0.1:") for p in flower["ports"])  # no login of its own: loopback only
    worker = compose["services"]["worker"]
    assert "-E" in worker["command"]  # task events, which Flower's task list needs
    assert env["DISTILLERY_WORKER_METRICS_PORT"] in worker["expose"]
    assert env["DISTILLERY_LOG_FORMAT"] == "json"
    assert env["DISTILLERY_RATE_LIMIT_STORAGE"].startswith("redis://redis:")  # shared by every API process
