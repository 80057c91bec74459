"""Hostile text and numbers at the edge: NUL characters and lone surrogates in names, ids, paths and
query strings, Infinity and NaN in hyperparameters, and sweeps whose members collide — each a 422 that
says what to fix, never a 500."""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.test_api import assert_problem, counts, job_body, upload_teacher


def post_json(client, url: str, raw: str):
    """JSON sent as written: httpx's encoder refuses NaN, Infinity and lone surrogates, and these tests need them."""
    return client.post(url, content=raw.encode("utf-8"), headers={"content-type": "application/json"})


@pytest.mark.parametrize("url", [
    "/v1/jobs/job_%00x", "/v1/teachers/%00", "/v1/transfer-sets/ts%00", "/v1/jobs/%00/events",
    "/v1/jobs/job_x%00/student",
])
def test_nul_in_a_path_is_422(client, url):
    assert_problem(client.get(url), 422, "NUL", field="path")


def test_nul_in_a_path_of_a_write_is_422(client):
    assert_problem(client.delete("/v1/teachers/tch_%00"), 422, "NUL")
    assert_problem(client.post("/v1/jobs/job_%00/cancel"), 422, "NUL")


@pytest.mark.parametrize("url, field", [
    ("/v1/jobs?status=queued%00", "status"), ("/v1/jobs/job_x/student?format=onnx%00", "format"),
    ("/v1/teachers?limit=1&x%00=1", "query"),
])
def test_nul_in_a_query_string_is_422(client, url, field):
    assert_problem(client.get(url), 422, "NUL", field=field)


@pytest.mark.parametrize("text, words", [("\\u0000", "NUL"), ("\\ud800", "surrogate"), ("a\\udfffb", "surrogate")])
def test_nul_and_lone_surrogates_in_job_ids_are_422(client, text, words):
    raw = json.dumps(job_body("TCH", "TS")).replace('"TCH"', f'"{text}"')
    assert_problem(post_json(client, "/v1/jobs", raw), 422, words, field="teacher_ids.0")
    raw = json.dumps(job_body("tch_x", "TS")).replace('"TS"', f'"{text}"')
    assert_problem(post_json(client, "/v1/jobs", raw), 422, words, field="transfer_set_id")
    raw = json.dumps(job_body("tch_x", "ts_x", validation_transfer_set_id="V")).replace('"V"', f'"{text}"')
    assert_problem(post_json(client, "/v1/jobs", raw), 422, field="validation_transfer_set_id")
    assert counts()["jobs"] == 0


def test_nul_and_lone_surrogates_in_transfer_set_fields_are_422(client):
    r = post_json(client, "/v1/transfer-sets", '{"name": "a\\u0000", "builtin": "digits"}')
    assert_problem(r, 422, "NUL", field="name")
    r = post_json(client, "/v1/transfer-sets", '{"name": "a", "kind": "image_folder", "path": "x\\u0000"}')
    assert_problem(r, 422, "NUL", field="path")
    # This route parses JSON strictly: a lone surrogate is not JSON at all.
    r = post_json(client, "/v1/transfer-sets", '{"name": "a\\ud800", "builtin": "digits"}')
    assert_problem(r, 422, "JSON")
    assert counts()["transfer_sets"] == 0


def test_nul_in_a_multipart_name_is_422(client):
    import numpy as np

    from tests.unit.test_api import npz_bytes

    r = client.post("/v1/transfer-sets", files={"file": ("s.npz", npz_bytes(x=np.zeros((4, 2))))},
                    data={"name": "a\x00b"})
    assert_problem(r, 422, "NUL", field="name")


@pytest.mark.parametrize("hp, field", [
    ('{"grad_clip": Infinity}', "hyperparameters.grad_clip"),
    ('{"soft_weight": Infinity}', "hyperparameters.soft_weight"),
    ('{"soft_weight": NaN}', "hyperparameters.soft_weight"),
    ('{"hard_weight": -Infinity}', "hyperparameters.hard_weight"),
    ('{"temperature": NaN}', "hyperparameters.temperature"),
])
def test_infinity_and_nan_hyperparameters_are_422(client, hp, field):
    raw = json.dumps(job_body("tch_x", "ts_x")).replace('{"epochs": 2}', hp)
    assert_problem(post_json(client, "/v1/jobs", raw), 422, field=field)


def test_infinity_in_a_sweep_or_preprocessing_is_422(client):
    raw = json.dumps({**job_body("tch_x", "ts_x"), "sweep": {"temperature": [1]}}).replace("[1]", "[1, Infinity]")
    assert_problem(post_json(client, "/v1/jobs", raw), 422, field="sweep.temperature.1")
    raw = ('{"name": "a", "kind": "image_folder", "path": "x", '
           '"preprocessing": {"normalize": {"mean": [NaN], "std": [1]}}}')
    assert_problem(post_json(client, "/v1/transfer-sets", raw), 422, field="preprocessing.normalize.mean.0")


@pytest.fixture
def ids(client, teacher_file):
    teacher = upload_teacher(client, teacher_file).json()["id"]
    return teacher, client.post("/v1/transfer-sets", json={"name": "d", "builtin": "digits"}).json()["id"]


@pytest.mark.parametrize("sweep, words", [
    ({"temperature": [2, 2]}, "appears twice"),
    ({"temperature": [1, 2.0, 2]}, "appears twice"),
    ({"soft_weight": [0.1, 0.10000001]}, "both read as 'soft_weight=0.1'"),
    ({"temperature": [1, 3], "hard_weight": [0.5, 0.5000000001]}, "both read as"),
])
def test_sweeps_whose_members_collide_are_422(client, ids, sweep, words):
    r = client.post("/v1/jobs", json={**job_body(*ids), "sweep": sweep})
    assert_problem(r, 422, words, field="sweep")
    assert counts()["jobs"] == 0


# -- property tests: no text a client sends is a 5xx ------------------------------------------------------

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "/", "%", "é", "\u202e", "\n", " "]),
            min_size=1, max_size=20),
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def url_part(text: str) -> str:
    """Percent-encoded as UTF-8; a lone surrogate goes as the bytes it would be (not valid UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _no_5xx(r) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text


@PROPERTY
@given(text=HOSTILE)
def test_any_id_in_a_path_is_never_a_5xx(client, text):
    ident = url_part(text)
    for url in (f"/v1/jobs/{ident}", f"/v1/teachers/{ident}", f"/v1/transfer-sets/{ident}",
                f"/v1/jobs/{ident}/metrics"):
        _no_5xx(client.get(url))


@PROPERTY
@given(text=HOSTILE)
def test_any_query_value_is_never_a_5xx(client, text):
    _no_5xx(client.get(f"/v1/jobs?status={url_part(text)}"))
    _no_5xx(client.get(f"/v1/jobs?offset={url_part(text)}"))
    _no_5xx(client.get(f"/v1/jobs/job_x/student?format={url_part(text)}"))


@PROPERTY
@given(text=HOSTILE)
@example(text="\ud800\udfff")  # a surrogate pair: JSON reads it back as one character
def test_any_transfer_set_name_is_never_a_5xx(client, text):
    r = post_json(client, "/v1/transfer-sets", json.dumps({"name": text, "builtin": "digits"}))
    _no_5xx(r)
    if r.status_code == 201:
        # What the server read: a JSON parser joins an escaped surrogate pair ("\\ud800\\udfff") into one character.
        sent = json.loads(json.dumps(text))
        assert client.get(f"/v1/transfer-sets/{r.json()['id']}").json()["name"] == sent


@PROPERTY
@given(text=HOSTILE)
def test_any_id_in_a_job_is_never_a_5xx(client, text):
    _no_5xx(post_json(client, "/v1/jobs", json.dumps(job_body(text, text))))


# Each example uploads and probes a teacher in its sandbox (some 2 s): a few drawn names beside the known hard ones.
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30))
@example(text="\x00")
@example(text="\u202e\n é/%")
@example(text="")
def test_any_teacher_name_is_never_a_5xx(client, teacher_file, text):
    # Multipart text is UTF-8 on the wire, so no lone surrogate reaches the server this way.
    r = upload_teacher(client, teacher_file, name=text)
    _no_5xx(r)


def test_a_non_ascii_digit_as_last_event_id_is_ignored_not_a_500(client, ids):
    """Header bytes are read as latin-1, where 0xb2 is '²': isdigit() says yes, int() says no."""
    import asyncio

    job = client.post("/v1/jobs", json=job_body(*ids)).json()["id"]
    client.post(f"/v1/jobs/{job}/cancel")
    sent = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():  # the request, then nothing more until the response has ended
        if requests:
            return requests.pop()
        await asyncio.sleep(3600)

    async def send(message):
        sent.append(message)

    # Straight to the ASGI app: TestClient would re-encode the header as UTF-8.
    scope = {"type": "http", "method": "GET", "path": f"/v1/jobs/{job}/events/stream", "raw_path": b"",
             "query_string": b"", "headers": [(b"last-event-id", b"\xb2"), (b"host", b"test")],
             "http_version": "1.1", "scheme": "http", "server": ("test", 80), "client": ("test", 1), "root_path": ""}
    asyncio.run(client.app(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"event: cancelled" in b"".join(m.get("body", b"") for m in sent[1:])
