"""The artifact store, on a directory and on a real S3-compatible server (moto, on loopback): files appear
whole or not at all, reads are checked against the recorded sha256, and reads are cached locally within a
bound."""

import hashlib
import io
import os
import time
from pathlib import Path

import pytest

from core.local_cache import LocalCache
from core.store import ArtifactCorrupt, ArtifactMissing, ArtifactStore, UploadTooLarge
from core.store_backends import DirectoryBackend, ObjectBackend

BLOCK = 5 * 1024 * 1024  # S3's smallest part


class DropsHalfway(io.RawIOBase):
    """A request body whose connection breaks after some bytes."""

    def __init__(self, good: int):
        self.left = good

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left <= 0:
            raise ConnectionResetError("the client went away")
        chunk = min(self.left, 4096 if n < 0 else n)
        self.left -= chunk
        return b"x" * chunk


def files_in(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class Where:
    """One store under test, and a way to look at (and damage) its bytes past the store."""

    def __init__(self, kind, tmp_path, s3_server=None, cache_bytes=1 << 30):
        self.kind, self.tmp = kind, tmp_path
        cache = LocalCache(tmp_path / "cache", cache_bytes)
        if kind == "directory":
            self.store = ArtifactStore(DirectoryBackend(tmp_path / "store"), cache=cache)
        else:
            self.s3, self.bucket = s3_server, s3_server.new_bucket()
            backend = ObjectBackend(f"s3://{self.bucket}/some/prefix", block_size=BLOCK, options={
                "endpoint_url": s3_server.endpoint, "key": "testing", "secret": "testing",
                "client_kwargs": {"region_name": "us-east-1"}})
            self.store = ArtifactStore(backend, cache=cache, staging=tmp_path / "staging")

    def stored(self) -> list[str]:
        if self.kind == "directory":
            return [k for k in files_in(self.tmp / "store") if not k.startswith(".staging")]
        return sorted(k.removeprefix("some/prefix/") for k in self.s3.keys(self.bucket))

    def overwrite(self, key: str, data: bytes) -> None:
        if self.kind == "directory":
            (self.tmp / "store" / key).write_bytes(data)
        else:
            self.s3.client().put_object(Bucket=self.bucket, Key=f"some/prefix/{key}", Body=data)

    def staging_empty(self) -> bool:
        staging = self.tmp / ("store/.staging" if self.kind == "directory" else "staging")
        return not any(staging.iterdir())


@pytest.fixture(params=["directory", "s3"])
def where(request, tmp_path):
    server = request.getfixturevalue("s3_server") if request.param == "s3" else None
    return Where(request.param, tmp_path, server)


def commit_bytes(store, key, data) -> str:
    with store.stage(io.BytesIO(data)) as staged:
        store.commit(staged.path, key)
        return staged.sha256


def test_an_interrupted_upload_leaves_no_file(where):
    with pytest.raises(ConnectionResetError), where.store.stage(DropsHalfway(3 * 1024 * 1024)) as staged:
        where.store.commit(staged.path, "teachers/never.pt")
    assert where.stored() == [] and where.staging_empty()


def test_an_oversized_upload_stops_at_the_limit_and_leaves_no_file(where):
    with pytest.raises(UploadTooLarge), where.store.stage(io.BytesIO(b"y" * 5000), limit=4096):
        pass
    assert where.stored() == [] and where.staging_empty()


def test_a_committed_file_is_whole_hashed_and_read_back(where):
    data = os.urandom(3_000_000)
    sha = commit_bytes(where.store, "students/job_a/tok/student.pt", data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert where.stored() == ["students/job_a/tok/student.pt"] and where.staging_empty()
    local = where.store.open_local("students/job_a/tok/student.pt", sha)
    assert local.read_bytes() == data and local.name.endswith("student.pt")
    assert where.store.exists("students/job_a/tok/student.pt") and not where.store.exists("students/other.pt")
    [obj] = where.store.objects()
    assert (obj.key, obj.size_bytes) == ("students/job_a/tok/student.pt", len(data)) and obj.modified > 0
    for bad in ("../outside", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(ValueError, match="escapes"):
            where.store.open_local(bad)


def test_a_changed_object_is_refused_when_read_and_no_copy_is_kept(where):
    sha = commit_bytes(where.store, "teachers/tch_a.pt", b"the teacher" * 1000)
    where.overwrite("teachers/tch_a.pt", b"someone else's bytes")
    with pytest.raises(ArtifactCorrupt, match="does not match the sha256") as caught:
        where.store.open_local("teachers/tch_a.pt", sha)
    assert str(where.tmp) not in str(caught.value)  # a key, never a server path
    assert files_in(where.tmp / "cache") == []
    with pytest.raises(ArtifactMissing):
        where.store.open_local("teachers/tch_gone.pt")


def test_delete_and_delete_prefix_remove_exactly_their_files(where):
    for key in ("checkpoints/job_a/d.t.1.pt", "checkpoints/job_a/d.t.2.pt", "checkpoints/job_ab/d.t.1.pt",
                "teachers/tch_a.pt"):
        commit_bytes(where.store, key, key.encode())
    where.store.delete_prefix("checkpoints/job_a")
    where.store.delete("teachers/tch_a.pt")
    where.store.delete("teachers/tch_never.pt")  # absent: no error
    assert where.stored() == ["checkpoints/job_ab/d.t.1.pt"]
    assert [o.key for o in where.store.objects("checkpoints/")] == ["checkpoints/job_ab/d.t.1.pt"]


def test_a_large_file_goes_up_in_parts(s3_server, tmp_path):
    where = Where("s3", tmp_path, s3_server)
    data = os.urandom(2 * BLOCK + 1024)
    sha = commit_bytes(where.store, "teachers/big.pt", data)
    head = s3_server.client().head_object(Bucket=where.bucket, Key="some/prefix/teachers/big.pt")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    assert where.store.open_local("teachers/big.pt", sha).read_bytes() == data


def test_reads_are_cached_locally_within_the_bound(s3_server, tmp_path):
    where = Where("s3", tmp_path, s3_server, cache_bytes=250_000)
    shas = {k: commit_bytes(where.store, k, os.urandom(100_000)) for k in ("a/1", "a/2", "a/3")}
    first = where.store.open_local("a/1", shas["a/1"]).read_bytes()
    where.overwrite("a/1", b"changed after it was read")  # a cached read does not download again
    assert where.store.open_local("a/1", shas["a/1"]).read_bytes() == first
    time.sleep(0.05)
    where.store.open_local("a/2", shas["a/2"])
    time.sleep(0.05)
    where.store.open_local("a/1", shas["a/1"])  # a/1 used again: a/2 is now the least recently used
    where.store.open_local("a/3", shas["a/3"])  # three do not fit: a/2 goes
    cached = sorted(p.name.rsplit("-", 1)[1] for p in where.store.cache.root.iterdir()
                    if p.name not in (".incoming", ".locks"))
    assert cached == ["1", "3"]
    assert sum(size for _, size, _ in where.store.cache.entries()) <= 250_000


def test_an_archive_is_unpacked_once_into_the_local_cache(where):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cats/a.txt", "meow")
    sha = commit_bytes(where.store, "transfer_sets/ts_a.zip", buf.getvalue())
    calls = []

    def unpack(archive, dest):
        calls.append(archive)
        dest.mkdir()
        with zipfile.ZipFile(archive) as z:
            z.extractall(dest)

    folder = where.store.unpacked("transfer_sets/ts_a.zip", sha, unpack)
    assert (folder / "cats" / "a.txt").read_text() == "meow"
    assert where.store.unpacked("transfer_sets/ts_a.zip", sha, unpack) == folder and len(calls) == 1


def test_the_api_refuses_a_changed_file_with_a_409_that_names_no_server_path(client, tmp_path):
    from safetensors.torch import save_file
    from sqlalchemy import select

    from app.deps import get_store
    from core.db import session_scope
    from core.tables import Artifact, Teacher
    from models.zoo import build_student

    spec = {"arch": "mlp", "hidden_sizes": [16]}
    save_file(build_student(spec, [64], 10).state_dict(), str(tmp_path / "init.safetensors"))
    with open(tmp_path / "init.safetensors", "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("init.safetensors", f)},
                        data={"name": "init", "input_shape": "[64]", "format": "safetensors", "arch": "mlp",
                              "arch_config": '{"hidden_sizes": [16], "num_classes": 10}'})
    assert r.status_code == 201, r.text
    init = r.json()["id"]
    ts = client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]
    body = {"teacher_ids": [init], "transfer_set_id": ts, "student": spec, "student_init_weights": init}
    assert client.post("/v1/jobs", json=body).status_code == 202
    with session_scope() as s:
        key = s.scalar(select(Artifact.key).join(Teacher, Teacher.artifact_id == Artifact.id).where(Teacher.id == init))
    path = get_store().path(key)
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 409 and r.json()["type"].endswith("artifact-corrupt"), r.text
    assert key in r.json()["detail"] and str(get_store().root) not in r.text


def test_the_orphan_sweep_and_job_deletion_work_on_a_bucket(s3_server, embedded_env, monkeypatch, teacher_file):
    """The API's own store in a bucket: what no row names goes, what rows name and the cache stay."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from app.main import create_app
    from app.retention import sweep_orphans
    from core.config import get_settings
    from core.db import get_engine, upgrade
    from core.store import get_store
    from tests.conftest import clear_caches

    bucket = s3_server.new_bucket()
    for name, value in s3_server.env(bucket, "p").items():
        monkeypatch.setenv(name, value)
    clear_caches()
    upgrade(get_settings().resolved_database_url)
    with TestClient(create_app()) as client:
        with open(teacher_file, "rb") as f:
            r = client.post("/v1/teachers", files={"file": ("t.pt", f)}, data={"name": "t", "input_shape": "[64]"})
        assert r.status_code == 201, r.text
        store = get_store()
        assert not store.local
        for key in ("students/job_gone/tok/student.pt", "cache/teacher_outputs/ab/abcd.safetensors"):
            commit_bytes(store, key, b"x")
        with Session(get_engine()) as s:
            removed = sweep_orphans(s, store, grace_seconds=0)
        assert removed == ["students/job_gone/tok/student.pt"]
        keys = sorted(k.removeprefix("p/") for k in s3_server.keys(bucket))
        assert keys == ["cache/teacher_outputs/ab/abcd.safetensors", f"teachers/{r.json()['id']}.pt"]
        assert client.delete(f"/v1/teachers/{r.json()['id']}").status_code == 204
        assert sorted(s3_server.keys(bucket)) == ["p/cache/teacher_outputs/ab/abcd.safetensors"]


_EVICT_ELSEWHERE = """
import sys
from core.local_cache import LocalCache
cache = LocalCache(sys.argv[1], int(sys.argv[2]))
print(len(cache.evict()))
"""


def test_entries_a_task_holds_are_not_evicted_by_any_process_until_it_ends(tmp_path):
    """Eviction in another process (another worker on the host) passes over what a running task holds: a job
    reads its inputs by path for its whole run. Once the task's block ends they are evictable again."""
    import subprocess
    import sys

    cache = LocalCache(tmp_path / "cache", max_bytes=1000)

    def make(size):
        return lambda dest: dest.write_bytes(b"x" * size)

    def evict_elsewhere(limit) -> int:
        out = subprocess.run([sys.executable, "-c", _EVICT_ELSEWHERE, str(cache.root), str(limit)],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
        return int(out.stdout)

    with cache.held():
        inputs = cache.fetch("inputs", make(800))
        other = cache.fetch("other", make(800))  # past the bound: evicts, but not "inputs", which is held
        assert inputs.exists() and other.exists()
        assert evict_elsewhere(0) == 0  # held by this process: another one leaves both
        assert inputs.exists() and other.exists()
    assert evict_elsewhere(0) == 2  # the task has ended: both go
    assert not inputs.exists() and not other.exists()
    loose = cache.fetch("loose", make(10))  # outside a task nothing is pinned
    assert evict_elsewhere(0) == 1 and not loose.exists()


def test_keys_that_name_the_store_itself_or_leave_it_are_refused(where):
    """delete_prefix("./") would otherwise remove everything in the store."""
    commit_bytes(where.store, "kept/1", b"still here")
    for key in (".", "./", "a/./b", "a//b", "../x", "/x", "a/..", ""):
        with pytest.raises(ValueError, match="escapes the store"):
            where.store.delete_prefix(key)
    assert where.store.exists("kept/1")


def test_the_buckets_teacher_outputs_are_evicted_least_recently_used_first(s3_server, tmp_path, monkeypatch):
    """A teacher's outputs that every job reads stay in the bucket while newer, unused ones come and go."""
    import torch
    from safetensors.torch import save

    from worker.jobs.stored_teacher_cache import StoredTeacherCache

    monkeypatch.setattr(StoredTeacherCache, "MARK_USED_EVERY", 0.0)  # every use re-dates (by default hourly)
    where = Where("s3", tmp_path, s3_server)
    entry = {"logits": torch.zeros(64, 10)}
    size = len(save(entry))
    cache = StoredTeacherCache(tmp_path / "local", None, where.store, store_max_bytes=2 * size + size // 2)

    def stored() -> list[str]:
        return sorted(k.rsplit("/", 1)[-1].removesuffix(".safetensors") for k in where.stored())

    cache.put("aa11", entry)
    time.sleep(1.1)  # an object's LastModified counts whole seconds
    cache.put("bb22", entry)
    time.sleep(1.1)
    assert cache.get("aa11") is not None  # a local hit: still a use of the bucket's entry
    time.sleep(1.1)
    cache.put("cc33", entry)  # past the bound: the least recently used goes, not the oldest written
    assert stored() == ["aa11", "cc33"]
    (tmp_path / "local").rename(tmp_path / "local-gone")  # another host: nothing local, read from the bucket
    other = StoredTeacherCache(tmp_path / "local", None, where.store, store_max_bytes=2 * size + size // 2)
    assert other.get("bb22") is None and other.get("aa11") is not None


def test_touch_dates_a_file_anew_and_keeps_its_bytes(where):
    commit_bytes(where.store, "t/1", b"the same bytes")
    (first,) = where.store.objects("t/")
    time.sleep(1.1)  # an object's LastModified counts whole seconds
    where.store.touch("t/1")
    (touched,) = where.store.objects("t/")
    assert touched.modified > first.modified and touched.size_bytes == first.size_bytes
    dest = where.tmp / "read"
    where.store.download("t/1", dest)
    assert dest.read_bytes() == b"the same bytes"
    with pytest.raises(ArtifactMissing):
        where.store.touch("t/never-stored")


def test_a_process_re_dates_a_bucket_entry_at_most_once_an_interval(s3_server, tmp_path, monkeypatch):
    import torch

    from worker.jobs.stored_teacher_cache import StoredTeacherCache

    where = Where("s3", tmp_path, s3_server)
    cache = StoredTeacherCache(tmp_path / "local", None, where.store, store_max_bytes=1 << 20)
    cache.put("dd44", {"logits": torch.zeros(4, 10)})
    (written,) = where.store.objects("cache/")
    time.sleep(1.1)  # an object's LastModified counts whole seconds
    assert cache.get("dd44") is not None  # within the hour of its upload: not re-dated
    (after_hit,) = where.store.objects("cache/")
    assert after_hit.modified == written.modified
    monkeypatch.setattr(StoredTeacherCache, "MARK_USED_EVERY", 1.0)
    assert cache.get("dd44") is not None  # the interval has passed: re-dated
    (after_interval,) = where.store.objects("cache/")
    assert after_interval.modified > written.modified
