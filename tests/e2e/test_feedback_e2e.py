"""Bounces and complaints coming back to the relay over real SMTP: the VERP return path of a
delivered copy receives a DSN, the complaints mailbox an ARF report, from outside networks;
the next message to that address is refused. Forged or unsigned reports change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.model import SuppressionOrigin
from tests.e2e.conftest import FullRelay, FullRelayFactory, mailbox, make_message
from tests.feedback_reports import arf_report, dsn, plain_bounce
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
SOPHIE = "sophie@gmail.com"
OUTSIDE = "127.0.0.2"  # a mailbox provider's MTA: not in smtp.allowed_networks
FEEDBACK = {"enabled": True}


async def delivered_copy(relay: FullRelay, address: str, **headers: str) -> tuple[str, str]:
    """Send to `address`; (its copy's envelope sender, its copy's header block)."""
    result = await relay.send(address, make_message(address, headers=headers or None))
    assert result.accepted, result
    copy = mailbox(relay.delivered, address)[-1]
    head = copy.content.split(b"\r\n\r\n", 1)[0].decode()
    return copy.mail_from, head


async def report(relay: FullRelay, to: str, message: bytes) -> str:
    """Deliver a report as an outside MTA would (null sender); the reply to its RCPT or DATA."""
    result = await relay.send(to, message, sender="", source_address=OUTSIDE)
    return result.data if result.data is not None else result.rcpt[to]


async def feedback_relay(full_relay: FullRelayFactory, **overrides: Any) -> FullRelay:
    """Feedback on; only 127.0.0.1 may relay, so reports from OUTSIDE are outside peers."""
    relay = await full_relay(
        feedback=FEEDBACK, smtp={"allowed_networks": ["127.0.0.1/32"]}, **overrides
    )
    await relay.store.upsert_contacts([consented(MARIE), consented(SOPHIE)])
    return relay


async def test_each_copy_gets_its_own_signed_return_path(full_relay: FullRelayFactory) -> None:
    relay = await feedback_relay(full_relay)
    marie_path, _ = await delivered_copy(relay, MARIE)
    sophie_path, _ = await delivered_copy(relay, SOPHIE)
    assert marie_path.startswith("bounces+") and marie_path.endswith("@relay.test")
    assert len(marie_path.split("@")[0]) <= 64  # RFC 5321 local-part limit
    assert marie_path != sophie_path
    # Off by default: the sender's own return path.
    plain = await full_relay()
    await plain.store.upsert_contacts([consented("paul@gmail.com")])
    path, _ = await delivered_copy(plain, "paul@gmail.com")
    assert path == "news@example.com"


async def test_hard_bounce_suppresses_the_next_message(
    full_relay: FullRelayFactory, tmp_path: Path
) -> None:
    relay = await feedback_relay(full_relay)
    return_path, head = await delivered_copy(relay, MARIE, **{"X-Prospect-Campaign": "lunch"})

    reply = await report(relay, return_path, dsn(MARIE, "5.1.1", returned_headers=head))

    assert reply.startswith("250"), reply
    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.BOUNCE and entry.scope == "global"
    [trail] = await relay.store.feedback_of(relay.store.address_hash(MARIE))
    assert (trail.kind, trail.status, trail.source) == ("hard-bounce", "5.1.1", "dsn")
    assert trail.campaign == "lunch" and trail.suppressed
    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    metrics = await relay.scrape()
    key = (
        "prospect_relay_feedback_total",
        (("campaign", "lunch"), ("kind", "hard-bounce"), ("source", "dsn")),
    )
    assert metrics[key] == 1
    eml = tmp_path / "next.eml"
    eml.write_bytes(make_message(MARIE))
    explained = await relay.cli("explain", str(eml), "--from", "news@example.com", "--to", MARIE)
    assert explained.exit_code == 0, explained.output
    assert "(list global, bounce)" in explained.output
    assert "hard-bounce 5.1.1 via dsn (campaign lunch) -> suppressed" in explained.output
    exported = await relay.cli("audit", "feedback", "--since", "1d")
    assert exported.exit_code == 0, exported.output
    header, row = exported.stdout.splitlines()
    assert header == "created_at,address_hash,kind,status,source,campaign,suppressed,detail"
    assert row.split(",")[1:7] == [
        relay.store.address_hash(MARIE),
        "hard-bounce",
        "5.1.1",
        "dsn",
        "lunch",
        "yes",
    ]


async def test_soft_bounces_suppress_only_at_the_limit(full_relay: FullRelayFactory) -> None:
    relay = await feedback_relay(full_relay)
    return_path, _ = await delivered_copy(relay, MARIE)
    for count in (1, 2):
        assert (await report(relay, return_path, dsn(MARIE, "4.2.2"))).startswith("250")
        assert await relay.store.is_suppressed(MARIE) == [], count
    assert (await report(relay, return_path, plain_bounce("550 5.2.2 mailbox full"))).startswith(
        "250"
    )
    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.BOUNCE
    trail = await relay.store.feedback_of(relay.store.address_hash(MARIE))
    assert [(t.kind, t.status, t.suppressed) for t in trail] == [
        ("soft-bounce", "4.2.2", False),
        ("soft-bounce", "4.2.2", False),
        ("soft-bounce", "5.2.2", True),
    ]


async def test_forged_and_misdirected_bounces_change_nothing(full_relay: FullRelayFactory) -> None:
    relay = await feedback_relay(full_relay)
    return_path, _ = await delivered_copy(relay, MARIE)
    local, _, domain = return_path.partition("@")
    forged = local[:-4] + ("AAAA" if not local.endswith("AAAA") else "BBBB") + "@" + domain
    unsigned = f"bounces+{'A' * 51}@{domain}"
    for address in (forged, unsigned, f"bounces+marie=gmail.com@{domain}"):
        reply = await report(relay, address, dsn(MARIE, "5.1.1"))
        assert reply.startswith("550 5.7.1 feedback:"), (address, reply)
    # A real return path, but the DSN is about someone else: not believed.
    assert (await report(relay, return_path, dsn(SOPHIE, "5.1.1"))).startswith("250")
    # Delivery reports that are no failure record nothing.
    assert (await report(relay, return_path, dsn(MARIE, "2.0.0", action="delivered"))).startswith(
        "250"
    )
    assert await relay.store.is_suppressed(MARIE) == []
    assert await relay.store.is_suppressed(SOPHIE) == []
    assert await relay.store.feedback_of(relay.store.address_hash(MARIE)) == []
    # Any other address is still closed to outside networks.
    assert (await report(relay, f"postmaster@{domain}", dsn(MARIE, "5.1.1"))).startswith("5")
    assert (await report(relay, SOPHIE, dsn(MARIE, "5.1.1"))).startswith("5")


async def test_arf_complaint_suppresses_globally(full_relay: FullRelayFactory) -> None:
    relay = await feedback_relay(full_relay)
    _, head = await delivered_copy(relay, MARIE)

    reply = await report(relay, "complaints@relay.test", arf_report(head))

    assert reply.startswith("250"), reply
    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.COMPLAINT and entry.scope == "global"
    [trail] = await relay.store.feedback_of(relay.store.address_hash(MARIE))
    assert (trail.kind, trail.status, trail.source) == ("complaint", "abuse", "arf")
    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    # A report that returns only the copy's envelope sender (its VERP return path).
    sophie_path, _ = await delivered_copy(relay, SOPHIE)
    only_path = f"Return-Path: <{sophie_path}>\r\nSubject: Our new collection"
    assert (await report(relay, "complaints@relay.test", arf_report(only_path))).startswith("250")
    [entry] = await relay.store.is_suppressed(SOPHIE)
    assert entry.origin is SuppressionOrigin.COMPLAINT


async def test_complaints_without_a_relay_token_change_nothing(
    full_relay: FullRelayFactory,
) -> None:
    relay = await feedback_relay(full_relay)
    _, head = await delivered_copy(relay, MARIE)
    tampered = head.replace("/u/", "/u/X")
    no_token = "From: news@example.com\r\nTo: marie@gmail.com\r\nSubject: hello"
    for returned in (tampered, no_token):
        reply = await report(relay, "complaints@relay.test", arf_report(returned))
        assert reply.startswith("550 5.7.1 feedback:"), reply
    not_arf = make_message("complaints@relay.test", from_=MARIE, subject="spam!")
    assert (await report(relay, "complaints@relay.test", not_arf)).startswith("550 5.7.1")
    not_spam = await report(relay, "complaints@relay.test", arf_report(head, "not-spam"))
    assert not_spam.startswith("250")
    assert await relay.store.is_suppressed(MARIE) == []
