"""Bounce classification, the signed return path and the DSN / ARF readers (pure)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from proxy.feedback.reports import parse_bounce, parse_complaint
from proxy.feedback.returnpath import ReturnPath
from proxy.policy.bounces import BounceKind, Bounces, classify_status, should_suppress
from tests.feedback_reports import arf_report, dsn, plain_bounce

KEY = b"k" * 32
HASH = "0f1e2d3c4b5a6978" * 4


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("5.1.1", BounceKind.HARD),
        ("5.1.10", BounceKind.HARD),
        ("5.2.1", BounceKind.HARD),
        ("5.2.2", BounceKind.SOFT),  # mailbox full
        ("5.7.1", BounceKind.SOFT),  # blocked: the address may be fine
        ("4.2.2", BounceKind.SOFT),
        ("4.4.1", BounceKind.SOFT),
        ("2.0.0", None),
        ("5.1", None),
        ("", None),
        ("9.1.1", None),
    ],
)
def test_classify_status(status: str, kind: BounceKind | None) -> None:
    assert classify_status(status, Bounces()) is kind


def test_soft_bounces_suppress_at_the_limit() -> None:
    policy = Bounces(soft_limit=3)
    assert should_suppress(BounceKind.HARD, 0, policy)
    assert not should_suppress(BounceKind.SOFT, 2, policy)
    assert should_suppress(BounceKind.SOFT, 3, policy)


def test_hard_statuses_must_be_permanent_codes() -> None:
    with pytest.raises(ValidationError, match=r"4\.2\.2"):
        Bounces(hard_statuses=("4.2.2",))
    assert classify_status("5.7.1", Bounces(hard_statuses=("5.7.1",))) is BounceKind.HARD


def test_return_path_round_trip_and_forgeries() -> None:
    path = ReturnPath(KEY, "bounces", "Relay.Test")
    address = path.address(HASH)
    local = address.split("@")[0]
    assert len(local) <= 64 and address.endswith("@relay.test")
    assert path.verify(address) == HASH
    assert path.verify(address.replace("@relay.test", "@RELAY.TEST")) == HASH
    token = local.split("+")[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert path.verify(f"bounces+{flipped}@relay.test") is None
    assert path.verify(f"bounces+{token.lower()}@relay.test") is None
    assert path.verify(f"bounces+{token}@other.test") is None
    assert ReturnPath(b"other-key", "bounces", "relay.test").verify(address) is None
    assert path.verify("bounces+short@relay.test") is None


def test_dsn_blocks_are_read() -> None:
    statuses, returned = parse_bounce(
        dsn("Marie@Gmail.com", "5.1.1", returned_headers="List-Unsubscribe: <x>"), 10_000
    )
    [status] = statuses
    assert (status.recipient, status.action, status.status) == (
        "Marie@Gmail.com",
        "failed",
        "5.1.1",
    )
    assert "550 5.1.1" in status.diagnostic
    assert "List-Unsubscribe" in returned


def test_non_standard_bounce_best_effort() -> None:
    [status] = parse_bounce(plain_bounce("Sorry.\n<x@y>: 550 5.2.2 mailbox full\n"), 10_000)[0]
    assert (status.recipient, status.status) == (None, "5.2.2")
    [basic] = parse_bounce(plain_bounce("Sorry.\n554 delivery error\n"), 10_000)[0]
    assert basic.status == "5.0.0"
    assert parse_bounce(plain_bounce("Thanks for your message!\n"), 10_000)[0] == []


def test_only_the_first_bytes_are_read() -> None:
    padding = "X-Padding: " + "x" * 70 + "\r\n"
    message = (padding * 200).encode() + dsn("a@b.c", "5.1.1")
    assert parse_bounce(message, 4096)[0] == []  # the status part is past the limit
    assert parse_bounce(message, len(message))[0] != []


def test_arf_report_is_read() -> None:
    report = parse_complaint(arf_report("Return-Path: <bounces+x@relay.test>"), 10_000)
    assert report is not None and report.feedback_type == "abuse"
    assert "bounces+x@relay.test" in report.original_headers
    assert parse_complaint(dsn("a@b.c", "5.1.1"), 10_000) is None


def test_deeply_nested_reports_are_not_parsed() -> None:
    levels = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(5000)
    )
    hostile = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + levels
    assert parse_bounce(hostile + dsn("a@b.c", "5.1.1"), len(hostile) * 2) == ([], "")
    assert parse_complaint(hostile, len(hostile)) is None
