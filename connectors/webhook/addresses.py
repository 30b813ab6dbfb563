"""Where an outgoing call may go: public addresses only, checked after DNS (DESIGN).

A URL a consultant typed could name an internal service; resolving it and
refusing private, loopback, link-local, multicast and reserved addresses keeps
Kazi from being used to reach inside the network it runs in.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in found})


class RefusedAddress(ValueError):
    """The URL may not be called; the message says why."""


def check_url(url: str, resolve: Resolver = system_resolver, allow_private: bool = False) -> None:
    """Raise RefusedAddress unless `url` is http(s) and every address it resolves to is
    public (or `allow_private`, for tests and local demos)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RefusedAddress(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_private:
        raise RefusedAddress(f"{url!r} is plain http; use https")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except OSError as error:
        raise RefusedAddress(f"cannot resolve {parts.hostname}: {error}") from None
    if not addresses:
        raise RefusedAddress(f"{parts.hostname} resolves to no address")
    if allow_private:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise RefusedAddress(
                f"{parts.hostname} resolves to {address}, a private or reserved address"
            )
