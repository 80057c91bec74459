"""The teacher-output cache is kept per tenant: two tenants that upload the same teacher and run it on the same
data each build their own entry, so no tenant sees a ``cache_hit`` that another tenant's job caused."""

from tests.unit.test_api import job_body
from tests.unit.test_quotas import setup_job, two_tenants  # noqa: F401 (fixture)
from worker.jobs.lifecycle import execute


def _cache_event(client, headers, body) -> str:
    r = client.post("/v1/jobs", json=body, headers=headers)
    assert r.status_code == 202, r.text
    execute(r.json()["id"])
    events = client.get(f"/v1/jobs/{r.json()['id']}/events", params={"limit": 1000}, headers=headers).json()["data"]
    assert events[-1]["type"] == "succeeded", events[-1]
    (kind,) = {e["type"] for e in events} & {"cache_hit", "cache_built"}
    return kind


def test_a_tenant_never_sees_a_cache_hit_caused_by_another_tenant(two_tenants, teacher_file):  # noqa: F811
    client, h = two_tenants
    small = {"hyperparameters": {"epochs": 1}, "export_formats": ["safetensors"],
             "student": {"arch": "mlp", "hidden_sizes": [8]}}
    bodies = {}
    for who in ("alpha", "beta"):  # the same teacher file and the same built-in set for both
        body = setup_job(client, teacher_file, h[who])
        bodies[who] = job_body(body["teacher_ids"][0], body["transfer_set_id"], **small)
    assert _cache_event(client, h["alpha"], bodies["alpha"]) == "cache_built"
    assert _cache_event(client, h["beta"], bodies["beta"]) == "cache_built"  # not alpha's entry
    # Within one tenant the cache still serves: the same teacher on the same data is a hit.
    assert _cache_event(client, h["beta"], bodies["beta"]) == "cache_hit"
    assert _cache_event(client, h["alpha"], bodies["alpha"]) == "cache_hit"
