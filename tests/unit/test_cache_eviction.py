"""The teacher-output cache stays under its size limit across a sequence of real jobs, evicts the least
recently used entry, and a later job that needs an evicted entry builds it again (event ``cache_built``)."""

import numpy as np

from core.config import get_settings
from tests.unit.test_api import job_body, npz_bytes, upload_teacher
from worker.jobs.lifecycle import execute


def cache_files() -> dict[str, int]:
    root = get_settings().resolved_artifact_dir / "cache" / "teacher_outputs"
    return {p.name: p.stat().st_size for p in root.glob("*/*.safetensors")}


def test_eviction_keeps_the_cache_under_its_limit_and_rebuilds_what_it_evicted(client, teacher_file, monkeypatch):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    rng = np.random.default_rng(0)
    sets = []
    for i in range(3):  # three transfer sets: three cache entries of the same size
        data = npz_bytes(x=rng.random((256, 64), dtype=np.float32), y=np.arange(256) % 10)
        r = client.post("/v1/transfer-sets", files={"file": (f"s{i}.npz", data)}, data={"name": f"s{i}"})
        sets.append(r.json()["id"])

    def run(ts: str) -> str:
        job = client.post("/v1/jobs", json=job_body(teacher, ts, hyperparameters={"epochs": 1},
                                                     export_formats=["safetensors"])).json()["id"]
        execute(job)
        events = client.get(f"/v1/jobs/{job}/events", params={"limit": 1000}).json()["data"]
        assert events[-1]["type"] == "succeeded", events[-1]
        kinds = {e["type"] for e in events} & {"cache_hit", "cache_built"}
        assert len(kinds) == 1, kinds
        assert sum(cache_files().values()) <= get_settings().teacher_cache_max_bytes
        return kinds.pop()

    assert run(sets[0]) == "cache_built"
    (entry_0, size), = cache_files().items()
    monkeypatch.setenv("DISTILLERY_TEACHER_CACHE_MAX_BYTES", str(2 * size + size // 2))  # room for two entries
    get_settings.cache_clear()

    assert run(sets[1]) == "cache_built"
    assert len(cache_files()) == 2
    assert run(sets[0]) == "cache_hit"  # set 0 is now the most recently used, set 1 the least
    entries_before = set(cache_files())
    assert run(sets[2]) == "cache_built"
    assert len(cache_files()) == 2
    evicted = entries_before - set(cache_files())
    assert len(evicted) == 1 and entry_0 not in evicted  # the least recently used went, not the oldest written
    assert run(sets[0]) == "cache_hit"
    assert run(sets[1]) == "cache_built"  # the evicted entry, computed and cached again
    assert evicted <= set(cache_files())
