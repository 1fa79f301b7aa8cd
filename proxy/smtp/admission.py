"""Who gets an SMTP session slot: the global cap, the per-address cap and the reserved slots.

The unsubscribe mailbox is public, so the listener faces the whole internet. Sessions fall in
two classes: *trusted* (the peer is in `allowed_networks`, or the session authenticated) and
*outside* (everyone else). Outside sessions may hold at most `max_connections -
reserved_connections` slots, and at most `max_connections_per_ip` from one address (one /64 for
IPv6, which a single host usually owns whole), so an outsider holding idle sessions never locks
out the allowed clients. Trusted sessions are bounded only by `max_connections`.

Pure bookkeeping, no I/O: `SessionTracker` (proxy/smtp/server.py) asks `admit` at connect time,
`promote` on a successful AUTH and `release` when the connection is lost.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from proxy import replies
from proxy.networks import IPNetwork, in_networks, parse_ip
from proxy.replies import SmtpReply

__all__ = [
    "Admission",
    "Ticket",
    "address_key",
    "peer_address",
]


def peer_address(peer: object) -> str:
    """The client's IP address from a socket's peer name (a tuple whose first item it is)."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return str(peer or "")


def address_key(peer: str) -> str:
    """The unit the per-address cap counts: the IP, or its /64 for IPv6."""
    ip = parse_ip(peer)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip) if ip is not None else peer


@dataclass(slots=True)
class Ticket:
    """One admitted session's place in the counts."""

    key: str
    outside: bool


class Admission:
    """Counts admitted sessions per class and per address; decides on new ones."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_per_ip: int,
        reserved: int,
        allowed_networks: Sequence[IPNetwork],
    ) -> None:
        self._max = max_connections
        self._max_per_ip = max_per_ip
        self._outside_limit = max_connections - reserved
        self._allowed = tuple(allowed_networks)
        self._total = 0
        self._outside = 0
        self._per_key: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return self._total

    def admit(self, peer: str) -> Ticket | SmtpReply:
        """A ticket for a new session from `peer`, or the 421 that says why not."""
        if self._total >= self._max:
            return replies.TOO_MANY_CONNECTIONS
        outside = not in_networks(peer, self._allowed)
        key = address_key(peer)
        if outside:
            if self._per_key[key] >= self._max_per_ip:
                return replies.TOO_MANY_FROM_ADDRESS
            if self._outside >= self._outside_limit:
                return replies.TOO_MANY_FROM_OUTSIDE
            self._outside += 1
            self._per_key[key] += 1
        self._total += 1
        return Ticket(key, outside)

    def promote(self, ticket: Ticket) -> None:
        """An outside session authenticated: it now counts as trusted."""
        if ticket.outside:
            self._leave_outside(ticket)

    def release(self, ticket: Ticket) -> None:
        if ticket.outside:
            self._leave_outside(ticket)
        self._total -= 1

    def _leave_outside(self, ticket: Ticket) -> None:
        ticket.outside = False
        self._outside -= 1
        self._per_key[ticket.key] -= 1
        if self._per_key[ticket.key] <= 0:
            del self._per_key[ticket.key]
