"""Where a webhook may go. A tenant's URL is a request the service makes on its behalf: without this check a
tenant could reach the metadata service, the database or anything else on the service's own network."""

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOW_SETTING = "DISTILLERY_WEBHOOK_ALLOW_PRIVATE"


def _not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


def url_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, in words a user can act on; None when it can.

    The host is resolved here, and again before every delivery: a name that resolved to a public address
    when the URL was given may point elsewhere later."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"the webhook URL is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a webhook URL starts with http:// or https:// and names a host"
    if parts.username or parts.password:
        return "a webhook URL may not carry a user name or password; receivers check the signature instead"
    if allow_private:
        return None
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return f"the webhook host {host!r} does not resolve; give a host name this service can reach"
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if _not_public(ip):
            return (f"the webhook host {host!r} is at {ip}, a loopback, link-local or private address; webhooks "
                    f"go to public addresses only (an operator can allow others with {ALLOW_SETTING}=true)")
    return None
