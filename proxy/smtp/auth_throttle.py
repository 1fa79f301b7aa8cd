"""Per-address backoff for failed SMTP AUTH, so guessing passwords costs the guesser time.

Each failure from an address (an IPv6 /64 counts as one, see admission.address_key) doubles
the delay before that address's next failure is answered: `base`, 2 `base`, 4 `base`... up to
`max_delay`. An address with no failure for `forget_after` seconds starts over. The table is
bounded (the oldest entries go first), so a flood of addresses cannot grow it without end.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from proxy.logs import mask_address

__all__ = ["AuthThrottle", "mask_username"]

_MAX_ENTRIES = 10_000
_USERNAME_LOG_LIMIT = 254


def mask_username(username: str) -> str:
    """What a log may say of an AUTH user name: `t***`, or `j***@example.com` for an address.

    The name comes from the peer: its length is bounded and its characters made printable.
    """
    name = username[:_USERNAME_LOG_LIMIT]
    masked = mask_address(name) if "@" in name else (name[:1] + "***" if name else "<empty>")
    return "".join(char if char.isprintable() else "?" for char in masked)


class AuthThrottle:
    """Remembers recent AUTH failures per address and says how long to hold the next answer."""

    def __init__(
        self,
        base_delay: float,
        *,
        max_delay: float = 30.0,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_delay
        self._max = max_delay
        self._forget_after = forget_after
        self._clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def failed(self, key: str) -> float:
        """Record a failure from `key`; the seconds to wait before answering it."""
        now = self._clock()
        count, last = self._failures.pop(key, (0, now))
        if now - last > self._forget_after:
            count = 0
        count += 1
        self._failures[key] = (count, now)
        while len(self._failures) > _MAX_ENTRIES:
            self._failures.popitem(last=False)
        return float(min(self._base * 2.0 ** min(count - 1, 32), self._max))
