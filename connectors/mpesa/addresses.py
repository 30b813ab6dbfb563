"""Whether a callback came from Safaricom (reference §6.3).

Daraja callbacks are unsigned; a source-IP allow-list is one more layer. The caller's
address is the one the web server resolved: uvicorn reads `X-Forwarded-For` only from
the proxies in its `FORWARDED_ALLOW_IPS` (default 127.0.0.1), and then only the hop
that proxy added.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

SAFARICOM_CALLBACK_IPS = (
    "196.201.214.200",
    "196.201.214.206",
    "196.201.213.114",
    "196.201.214.207",
    "196.201.214.208",
    "196.201.213.44",
    "196.201.212.127",
    "196.201.212.138",
    "196.201.212.129",
    "196.201.212.136",
    "196.201.212.74",
    "196.201.212.69",
    "196.201.212.128",  # legacy
    "196.201.212.132",  # legacy
)
"""mpesakit's list, "verified 2026-08-08" (reference §6.3). Lists change: configuration wins."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """`"safaricom, 10.0.0.0/8, 203.0.113.7"` → networks; `safaricom` is the published list.
    Raises ValueError naming a part that is not an address or network."""
    networks: list[Network] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part.lower() == "safaricom":
            networks.extend(ipaddress.ip_network(ip) for ip in SAFARICOM_CALLBACK_IPS)
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as error:
            raise ValueError(f"{part!r} is not an IP address or network") from error
    return tuple(networks)


def _within(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def allowed(address: str | None, allow_list: Iterable[Network]) -> bool:
    return address is not None and _within(address, allow_list)
