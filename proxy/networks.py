"""Is a client address inside configured networks? One answer for SMTP access control, the
policy's transactional clients and the web's trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["IPNetwork", "in_networks", "parse_ip"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=4096)
def parse_ip(text: str) -> IPAddress | None:
    """The address, None if it is not one. An IPv4-mapped IPv6 address (what a dual-stack
    listener reports for an IPv4 client) is its IPv4 address, so IPv4 networks match it.
    Cached: the same hosts connect again and again."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def in_networks(text: str, networks: Iterable[IPNetwork]) -> bool:
    ip = parse_ip(text)
    return ip is not None and any(ip in network for network in networks)
