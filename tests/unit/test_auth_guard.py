"""AUTH hardening (issue 11 item 4): equal cost for unknown users, per-address backoff."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from proxy.smtp.auth import Authenticator, hash_password
from proxy.smtp.auth_throttle import AuthThrottle, mask_username


async def test_unknown_user_costs_what_a_known_user_costs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scrypt run for an unknown name has the users' parameters (it was n=2**10 against
    the users' 2**14: ~4 ms against ~50 ms, which told the names that exist)."""
    authenticator = Authenticator({"tool": hash_password("s3cret", n=2**12, r=4)})
    calls: list[dict[str, Any]] = []
    real = hashlib.scrypt

    def recording_scrypt(password: bytes, **params: Any) -> bytes:
        calls.append({key: value for key, value in params.items() if key != "salt"})
        calls[-1]["salt_len"] = len(params["salt"])
        return real(password, **params)

    monkeypatch.setattr(hashlib, "scrypt", recording_scrypt)
    assert not await authenticator.authenticate("tool", b"wrong")
    assert not await authenticator.authenticate("nobody", b"wrong")
    known, unknown = calls
    assert known == unknown
    assert known["n"] == 2**12 and known["r"] == 4


def test_backoff_doubles_per_failure_and_is_capped() -> None:
    now = [0.0]
    throttle = AuthThrottle(1.0, max_delay=30.0, forget_after=900.0, clock=lambda: now[0])
    delays = [throttle.failed("192.0.2.1") for _ in range(7)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert throttle.failed("192.0.2.2") == 1.0  # per address
    now[0] = 100.0
    assert throttle.failed("192.0.2.1") == 30.0  # still remembered
    now[0] = 1001.0
    assert throttle.failed("192.0.2.1") == 1.0  # forgotten after a quiet period


def test_usernames_are_masked_and_bounded_in_logs() -> None:
    assert mask_username("tool") == "t***"
    assert mask_username("jean.dupont@example.com") == "j***@example.com"
    assert mask_username("") == "<empty>"
    assert mask_username("a\x1b[2J" + "x" * 10_000) == "a***"
    assert len(mask_username("x@" + "d" * 10_000)) < 300
