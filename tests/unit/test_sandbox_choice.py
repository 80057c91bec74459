"""Which sandbox uploads get where bubblewrap is missing: rlimits-only on one user's own machine (auth off,
loopback bind), refusal on any server that may be exposed. Bubblewrap is hidden by an empty PATH."""

import os

import pytest

from core.config import Settings, get_settings
from core.sandbox_choice import is_loopback, sandbox_mode
from models.sandbox.jail import sandbox_problem
from tests import hostile_models as hostile
from tests.conftest import clear_caches
from tests.unit.test_api import assert_problem, upload_teacher


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    path = os.environ["PATH"]
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    sandbox_problem.cache_clear()
    assert "bubblewrap" in sandbox_problem()
    yield
    monkeypatch.setenv("PATH", path)
    sandbox_problem.cache_clear()


def test_loopback_is_an_address_of_this_machine_alone():
    for host in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.org", "", None):
        assert not is_loopback(host), host


def test_the_mode_follows_auth_the_bind_and_the_operators_choice(no_bwrap):
    def mode(**values):
        return sandbox_mode(Settings(**values))

    assert mode(bind_host="127.0.0.1") == "rlimits-only"
    assert mode(bind_host="127.0.0.1", auth_required=True) == "unavailable"
    assert mode(bind_host="0.0.0.0") == "unavailable"
    assert mode() == "unavailable"  # an API started some other way: its bind is not known
    assert mode(bind_host="127.0.0.1", sandbox_fallback="refuse") == "unavailable"
    assert mode(bind_host="0.0.0.0", auth_required=True, sandbox_fallback="unsandboxed") == "rlimits-only"


def test_on_ones_own_machine_an_upload_runs_rlimits_only_and_the_teacher_says_so(client, exported_teacher_file,
                                                                                    monkeypatch, no_bwrap, tmp_path):
    monkeypatch.setenv("DISTILLERY_BIND_HOST", "127.0.0.1")
    clear_caches()
    r = upload_teacher(client, exported_teacher_file, format="exported_program")
    assert r.status_code == 201, r.text
    assert r.json()["sandbox"] == "rlimits-only"
    assert client.get(f"/v1/teachers/{r.json()['id']}").json()["sandbox"] == "rlimits-only"
    # the static checks still stand between a file and the child process
    marker = tmp_path / "ran"
    hostile_file = hostile.pt2_with_pickled_weight(tmp_path, marker)
    assert upload_teacher(client, hostile_file, format="exported_program", input_shape="[4]").status_code == 422
    assert not marker.exists()


@pytest.mark.parametrize("exposed", [{"DISTILLERY_BIND_HOST": "0.0.0.0"},
                                     {"DISTILLERY_BIND_HOST": "127.0.0.1", "DISTILLERY_AUTH_REQUIRED": "true"}])
def test_an_exposed_server_without_bubblewrap_refuses_uploads_and_runs_no_code(client, monkeypatch, no_bwrap,
                                                                               tmp_path, exposed):
    for key, value in exposed.items():
        monkeypatch.setenv(key, value)
    clear_caches()
    marker = tmp_path / "ran"
    headers = {}
    if get_settings().auth_required:
        from tests.unit.test_admin_keys import admin, bearer

        headers = bearer(admin("create-key", "--tenant", "t").stdout.strip())
    with open(hostile.torchscript_with_pickle_member(tmp_path, marker), "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("t.pt", f)}, headers=headers,
                        data={"name": "x", "input_shape": "[4]", "format": "torchscript"})
    assert_problem(r, 503, "cannot run uploaded models safely", "DISTILLERY_SANDBOX_FALLBACK")
    assert not marker.exists()
