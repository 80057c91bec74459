"""Which sandbox tenants' models get here: bubblewrap's namespaces, or on one user's own machine without
bubblewrap, a plain child process with rlimits only.

A server without bubblewrap runs uploads unsandboxed only where the uploader can be no one but the user of
the machine: auth is off and the API, as ``make run`` started it, listens on loopback alone. Anything else (a
key required, a bind that is not loopback, or an API started some other way, whose bind is unknown) is an
exposed server, and it refuses uploads unless its operator chose ``unsandboxed`` by name.
"""

import ipaddress
import logging
from typing import TYPE_CHECKING, Literal

from models.sandbox.jail import sandbox_problem

if TYPE_CHECKING:
    from core.config import Settings

SandboxMode = Literal["namespaces", "rlimits-only", "unavailable"]

REFUSAL = ("this server cannot run uploaded models safely (no sandbox: an operator must install bubblewrap, or "
           "set DISTILLERY_SANDBOX_FALLBACK=unsandboxed on a single-user machine)")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def own_machine(settings: "Settings") -> bool:
    """Auth off and an API that only this machine can reach: whoever uploads is the machine's own user."""
    return not settings.auth_required and is_loopback(settings.bind_host)


def sandbox_mode(settings: "Settings") -> SandboxMode:
    if sandbox_problem() is None:
        return "namespaces"
    if settings.sandbox_fallback == "unsandboxed":
        return "rlimits-only"
    if settings.sandbox_fallback == "loopback" and own_machine(settings):
        return "rlimits-only"
    return "unavailable"


def announce(settings: "Settings", log: logging.Logger) -> None:
    """Say at start whether tenants' models are isolated here: an operator must know before a tenant does."""
    mode = sandbox_mode(settings)
    if mode == "namespaces":
        log.info("tenants' models run in a bubblewrap sandbox (no network, own files only, user nobody)")
        return
    banner = "!" * 78
    problem = sandbox_problem()
    if mode == "unavailable":
        exposed = ("" if settings.sandbox_fallback == "refuse" else
                   "\n!! This server is not one user's own machine (auth is on, or the API is not bound to loopback "
                   "by make run), so it does not run uploads without the sandbox.")
        log.error("\n%s\n!! NO SANDBOX: %s.%s\n!! Uploaded teachers will be refused (503) until it is fixed "
                  "(or DISTILLERY_SANDBOX_FALLBACK=unsandboxed).\n%s", banner, problem, exposed, banner)
    elif settings.sandbox_fallback == "unsandboxed":
        log.warning("\n%s\n!! NO SANDBOX: %s.\n!! DISTILLERY_SANDBOX_FALLBACK=unsandboxed: tenants' models run "
                    "WITHOUT ISOLATION, with only memory, CPU and time limits.\n%s", banner, problem, banner)
    else:
        log.warning("\n%s\n!! NO SANDBOX (rlimits-only): %s.\n!! This is one user's own machine (auth off, API on "
                    "loopback %s), so YOUR uploads run after the static checks in a plain child process with "
                    "memory, CPU and time limits, WITHOUT namespace isolation.\n!! Upload only models you trust; "
                    "install bubblewrap for the full sandbox. With DISTILLERY_AUTH_REQUIRED=true or another bind, "
                    "uploads are refused.\n%s", banner, problem, settings.bind_host, banner)
