"""Where a webhook may go. A tenant's URL is a request the service makes on its behalf: without this check a
tenant could reach the metadata service, the database or anything else on the service's own network."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

ALLOW_SETTING = "DISTILLERY_WEBHOOK_ALLOW_PRIVATE"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Every block of IANA's special-purpose address registries, whatever their "globally reachable" column says:
# no receiver of ours lives in one, and some (AS112, AMT, the 6to4 relay) route to whoever announces them.
# ``is_global`` alone misses some on this Python (192.0.0.8, 64:ff9b:1::/48, fec0::/10, 3fff::/20 …).
SPECIAL_PURPOSE = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "255.255.255.255/32",
    "::/96",  # the unspecified and loopback addresses, and the deprecated IPv4-compatible ::a.b.c.d
    "64:ff9b:1::/48",  # local-use NAT64: which IPv4 address it carries is the local network's choice
    "100::/64", "2001::/23", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20", "5f00::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the low 32 bits are an IPv4 address
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT's ::ffff:0:a.b.c.d


@dataclass(frozen=True)
class UrlProblem:
    message: str
    lasting: bool = True  # False: the host did not resolve now, which may pass (a delivery tries again)

    def __str__(self) -> str:
        return self.message


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to an IPv4 host: mapped, SIIT-translated, NAT64, 6to4, Teredo."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in IPV4_TRANSLATED or ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour or (ip.teredo[1] if ip.teredo else None)


def public(ip: IPAddress) -> bool:
    """Globally routable, and so is whatever IPv4 address an IPv6 one carries. ``is_global`` rather than
    ``not is_private``: shared address space (100.64.0.0/10, where one cloud's metadata service lives) is
    neither private nor global."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None and not public(inner):
            return False
    if any(ip.version == net.version and ip in net for net in SPECIAL_PURPOSE):
        return False
    return ip.is_global and not ip.is_multicast


def _unsafe_character(url: str) -> str | None:
    """A character no URL may hold as it is (RFC 3986): controls, NUL, spaces. Some clients refuse them only
    when they send, so a delivery could never be made; others would send something else than was given."""
    for ch in url:
        if ord(ch) <= 0x20 or ord(ch) == 0x7F or ch.isspace():
            return f"U+{ord(ch):04X}"
    return None


def url_problem(url: str, allow_private: bool) -> UrlProblem | None:
    """Why ``url`` cannot receive webhooks, in words a user can act on; None when it can.

    The host is resolved here, and again before every delivery: a name that resolved to a public address
    when the URL was given may point elsewhere later."""
    if bad := _unsafe_character(url):
        return UrlProblem(f"the webhook URL holds the character {bad} (a control character or a space); "
                          "percent-encode it, e.g. a space as %20")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)  # what sends the deliveries: a URL it cannot parse could never be delivered
    except (ValueError, httpx.InvalidURL) as exc:
        return UrlProblem(f"the webhook URL is not a valid URL ({str(exc)[:200]})")
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
        if not public(ip):
            return UrlProblem(
                f"the webhook host {host!r} is at {ip}, which is not a public address (loopback, link-local, "
                f"private, shared or another special-purpose address space); webhooks go to public addresses "
                f"only (an operator can allow others with {ALLOW_SETTING}=true)")
    return None
