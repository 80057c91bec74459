"""Where a webhook may go. A tenant's URL is a request the service makes on its behalf: without this check a
tenant could reach the metadata service, the database or anything else on the service's own network."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOW_SETTING = "DISTILLERY_WEBHOOK_ALLOW_PRIVATE"


@dataclass(frozen=True)
class UrlProblem:
    message: str
    lasting: bool = True  # False: the host did not resolve now, which may pass (a delivery tries again)

    def __str__(self) -> str:
        return self.message


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable, whatever IPv4 address an IPv6 one carries (mapped, 6to4, Teredo). ``is_global``
    rather than ``not is_private``: shared address space (100.64.0.0/10, where one cloud's metadata service
    lives) is neither private nor global."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None and not _public(inner):
            return False
    return ip.is_global and not ip.is_multicast


def url_problem(url: str, allow_private: bool) -> UrlProblem | None:
    """Why ``url`` cannot receive webhooks, in words a user can act on; None when it can.

    The host is resolved here, and again before every delivery: a name that resolved to a public address
    when the URL was given may point elsewhere later."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return UrlProblem(f"the webhook URL is not a valid URL ({exc})")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return UrlProblem("a webhook URL starts with http:// or https:// and names a host")
    if parts.username or parts.password:
        return UrlProblem("a webhook URL may not carry a user name or password; receivers check the signature "
                          "instead")
    if allow_private:
        return None
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return UrlProblem(f"the webhook host {host!r} does not resolve; give a host name this service can "
                              "reach", lasting=False)
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if not _public(ip):
            return UrlProblem(
                f"the webhook host {host!r} is at {ip}, which is not a public address (loopback, link-local, "
                f"private or shared address space); webhooks go to public addresses only (an operator can "
                f"allow others with {ALLOW_SETTING}=true)")
    return None
