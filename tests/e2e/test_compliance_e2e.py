"""Compliance decisions through real SMTP: client -> production relay -> recording upstream."""

from __future__ import annotations

import email
import logging
import re
from pathlib import Path

import aiosmtplib
import pytest

from proxy.logs import DECISION_LOGGER
from proxy.model import ConsentMethod, SuppressionOrigin
from tests.e2e.conftest import (
    SENDER,
    FullRelay,
    FullRelayFactory,
    mailbox,
    make_message,
    policy_text,
)
from tests.unit.policy_factory import consented, customer, prospect, stale_prospect

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
PAUL = "paul.martin@acme-industrie.fr"


def _refused(reply: str | None, rule: str) -> bool:
    return reply is not None and reply.startswith(f"550 5.7.1 {rule}:")


async def _refused_at_rcpt(relay: FullRelay, address: str, rule: str) -> bool:
    return _refused((await relay.send(address)).rcpt[address], rule)


async def _seed_marie(relay: FullRelay) -> None:
    await relay.store.upsert_contacts([consented(MARIE)])


async def test_refusals_at_rcpt_name_their_rule_and_the_others_go_on(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [consented(MARIE), consented("sophie@gmail.com"), prospect("postmaster@client.fr")]
    )
    await relay.store.add_suppression(address="sophie@gmail.com", origin=SuppressionOrigin.MANUAL)
    rcpts = [MARIE, "jeanne@gmail.com", "sophie@gmail.com", "postmaster@client.fr"]

    result = await relay.send(rcpts, make_message(MARIE))

    assert result.rcpt[MARIE].startswith("250")
    assert _refused(result.rcpt["jeanne@gmail.com"], "b2c-no-consent")
    assert _refused(result.rcpt["sophie@gmail.com"], "suppressed")
    assert _refused(result.rcpt["postmaster@client.fr"], "operational-address")
    assert result.accepted
    [delivered] = mailbox(relay.delivered, MARIE)
    assert delivered.rcpt_tos == [MARIE]
    [report] = mailbox(relay.delivered, SENDER)  # smtp.dsn_rcpt_refusals: the three refused
    assert report.mail_from == ""
    assert all(address.encode() in report.content for address in rcpts[1:])


@pytest.mark.parametrize(
    ("record", "from_", "headers", "rule"),
    [
        (consented(MARIE), "News <news@not-acme.example>", {}, "sender-not-allowed"),
        (
            customer(MARIE),
            f"News <{SENDER}>",
            {"X-Prospect-Product": "running", "X-Prospect-Partner-Offers": "yes"},
            "third-party-offer",
        ),
        (prospect(PAUL), f"News <{SENDER}>", {"X-Prospect-Targets": "facilities"}, None),
    ],
    ids=["sender-not-allowed", "third-party-offer", "b2b-not-relevant"],
)
async def test_refusals_at_data(
    full_relay: FullRelayFactory,
    record: object,
    from_: str,
    headers: dict[str, str],
    rule: str | None,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([record])  # type: ignore[list-item]
    address = record.email  # type: ignore[attr-defined]

    result = await relay.send(address, make_message(address, from_=from_, headers=headers))

    assert result.rcpt[address].startswith("250")  # these rules need the content
    assert _refused(result.data, rule or "b2b-not-relevant"), result.data
    assert relay.delivered == []


async def test_mixed_outcome_delivers_one_and_reports_the_other_in_a_dsn(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE), prospect(PAUL)])
    message = make_message(MARIE, headers={"X-Prospect-Targets": "facilities"})

    result = await relay.send([MARIE, PAUL], message)

    assert result.rcpt == {MARIE: result.rcpt[MARIE], PAUL: result.rcpt[PAUL]}
    assert all(reply.startswith("250") for reply in result.rcpt.values())
    assert result.data is not None and result.data.startswith("250 2.0.0")
    assert mailbox(relay.delivered, PAUL) == []
    [copy] = mailbox(relay.delivered, MARIE)
    [dsn] = mailbox(relay.delivered, SENDER)
    assert dsn.mail_from == ""  # a report never bounces back
    report = email.message_from_bytes(dsn.content)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    status = next(p for p in report.walk() if p.get_content_type() == "message/delivery-status")
    text = status.as_string()
    assert f"Final-Recipient: rfc822; {PAUL}" in text
    assert "Action: failed" in text and "Status: 5.7.1" in text
    assert "b2b-not-relevant" in text
    assert MARIE not in text
    assert copy.rcpt_tos == [MARIE]


async def test_monitor_mode_forwards_what_enforce_refuses_and_says_so(
    full_relay: FullRelayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    relay = await full_relay(policy=policy_text(mode="monitor"))

    result = await relay.send("jeanne@gmail.com")

    assert result.rcpt["jeanne@gmail.com"].startswith("250")
    assert result.accepted
    [delivered] = relay.delivered
    assert delivered.rcpt_tos == ["jeanne@gmail.com"]
    [record] = [r for r in caplog.records if r.name == DECISION_LOGGER]
    [recipient] = record.decision["recipients"]  # type: ignore[attr-defined]
    assert recipient["action"] == "forward" and recipient["rules"] == []
    assert recipient["would"] == "reject" and recipient["would_rules"][0] == "b2c-no-consent"
    assert any("would reject" in reason for reason in recipient["reasons"]), recipient


async def test_store_down_is_a_temporary_failure_and_nothing_is_forwarded(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await _seed_marie(relay)

    async with relay.database_down():
        result = await relay.send(MARIE)
    assert re.match(r"451 4\.3\.0 .*unavailable", result.rcpt[MARIE]), result.rcpt
    assert result.data is None
    assert relay.delivered == []

    again = await relay.send(MARIE)  # the database is back: so is the relay
    assert again.accepted, again
    assert len(relay.delivered) == 1


async def test_store_lost_between_rcpt_and_data_is_a_temporary_failure(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    # The re-permission message is claimed (a write) at DATA, before forwarding.
    await relay.store.upsert_contacts([stale_prospect(PAUL)])
    headers = {"X-Prospect-Targets": "finance", "X-Prospect-Repermission": "yes"}
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=relay.smtp_port, timeout=10)
    await client.connect()
    await client.mail(SENDER)
    assert (await client.rcpt(PAUL)).code == 250
    async with relay.database_down():
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(make_message(PAUL, headers=headers))
    await client.quit()

    assert refused.value.code == 451 and refused.value.message.startswith("4.3.0")
    assert relay.delivered == []


async def test_a_bad_policy_reload_keeps_the_old_policy_and_a_good_one_applies(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    failed = ("prospect_relay_policy_reloads_total", (("result", "failed"),))
    ok = ("prospect_relay_policy_reloads_total", (("result", "ok"),))

    relay.policy_file.write_text('mode = "monitor"\n[controllers.acme\n', encoding="utf-8")
    await relay.app.reload()
    metrics = await relay.scrape()
    assert metrics[failed] == 1.0 and metrics.get(ok, 0.0) == 0.0
    assert await _refused_at_rcpt(relay, "jeanne@gmail.com", "b2c-no-consent")

    relay.policy_file.write_text(policy_text(mode="monitor"), encoding="utf-8")
    await relay.app.reload()
    metrics = await relay.scrape()
    assert metrics[ok] == 1.0 and metrics[failed] == 1.0
    assert (await relay.send("jeanne@gmail.com")).accepted


async def test_contacts_import_with_bad_rows_then_smtp_follows_the_register(
    full_relay: FullRelayFactory, tmp_path: Path
) -> None:
    relay = await full_relay()
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text(
        "email,kind,country,source,source_kind,collected_at,consent,consent_at,"
        "consent_method,consent_proof,consent_controller\n"
        f"{MARIE},b2c,FR,newsletter form,direct,2025-03-10,granted,2025-03-10,"
        "checkbox,form-log-1,acme\n"
        "not-an-address,b2c,FR,x,direct,2025-03-10,granted,2025-03-10,checkbox,p,acme\n"
        "jeanne@gmail.com,b2c,FR,x,direct,2025-03-10,maybe,2025-03-10,checkbox,p,acme\n"
        "sophie@gmail.com,b2c,FR,newsletter form,direct,2025-03-10,granted,2025-03-10,"
        "pre-ticked,form-log-2,acme\n",
        encoding="utf-8",
    )

    result = await relay.cli("contacts", "import", str(csv_file))

    assert result.exit_code == 1, result.output
    assert f"{csv_file}:3:" in result.output and f"{csv_file}:4:" in result.output
    assert "consent" in result.output.split(f"{csv_file}:4:")[1].splitlines()[0]
    assert "4 rows read: 2 inserted, 0 updated, 2 rejected" in result.output
    sent = await relay.send(MARIE)
    assert sent.accepted
    assert await _refused_at_rcpt(relay, "jeanne@gmail.com", "b2c-no-consent")
    assert await _refused_at_rcpt(relay, "sophie@gmail.com", "b2c-no-consent")


async def test_erasure_keeps_the_suppression(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await _seed_marie(relay)
    assert (await relay.send(MARIE)).accepted

    result = await relay.cli("forget", MARIE)

    assert result.exit_code == 0, result.output
    assert "register entry erased" in result.output
    assert await relay.store.get_contact(MARIE) is None
    assert _refused((await relay.send(MARIE)).rcpt[MARIE], "suppressed")
    await _seed_marie(relay)  # re-imported later, e.g. from a bought list (S19)
    assert _refused((await relay.send(MARIE)).rcpt[MARIE], "suppressed")
    assert len(relay.delivered) == 1


async def test_repermission_is_sent_once_then_refused(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([stale_prospect(PAUL)])
    headers = {"X-Prospect-Targets": "finance", "X-Prospect-Repermission": "yes"}

    first = await relay.send(PAUL, make_message(PAUL, headers=headers))
    second = await relay.send(PAUL, make_message(PAUL, headers=headers))
    plain = await relay.send(PAUL, make_message(PAUL, headers={"X-Prospect-Targets": "finance"}))

    assert first.accepted, first
    assert _refused(second.data, "stale-prospect"), second
    assert _refused(plain.data, "stale-prospect"), plain
    assert [m.rcpt_tos for m in relay.delivered] == [[PAUL]]


def _stages(output: str, address: str) -> str:
    return output.split(f"== {address}\n")[1].split("\n== ")[0]


async def test_explain_prints_the_decision_and_the_rule_trail(
    full_relay: FullRelayFactory, tmp_path: Path
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [consented(MARIE), consented("jeanne@gmail.com", consent_method=ConsentMethod.PRE_TICKED)]
    )
    eml = tmp_path / "msg.eml"
    eml.write_bytes(make_message(MARIE))

    result = await relay.cli(
        "explain",
        str(eml),
        "--from",
        SENDER,
        "--to",
        MARIE,
        "--to",
        "jeanne@gmail.com",
        "--today",
        "2026-12-01",
    )

    assert result.exit_code == 0, result.output
    s1 = _stages(result.output, MARIE)
    assert re.search(
        r"^=> REWRITE \(footer, list-unsubscribe\); footer added in 2 text parts$", s1, re.M
    )
    assert "decision: rewrite at data" in s1 and "basis: consent" in s1
    assert re.search(r"^  hit   footer\s+rewrite", s1, re.M)
    assert re.search(r"^  hit   list-unsubscribe\s+rewrite", s1, re.M)
    assert re.search(r"^  miss  b2c-no-consent\s", s1, re.M)
    assert re.search(r"^  miss  suppressed\s", s1, re.M)
    s2 = _stages(result.output, "jeanne@gmail.com")
    assert s2.rstrip().endswith("=> REJECT (b2c-no-consent)")
    assert "decision: reject at rcpt (b2c-no-consent:" in s2
    assert re.search(r"^  hit   consent-invalid\s.*pre-ticked", s2, re.M | re.I)
    assert re.search(r"^  hit   b2c-no-consent\s+reject", s2, re.M)
    assert relay.delivered == []  # explain sends nothing


async def test_transactional_sender_is_forwarded_untouched(full_relay: FullRelayFactory) -> None:
    """S25: a password reset from a sender marked transactional: no footer, own headers kept."""
    relay = await full_relay()
    message = make_message(
        MARIE,
        from_="Shop <noreply@example.com>",
        subject="Reset your password",
        headers={"List-Unsubscribe": "<https://example.com/prefs>"},
    )
    transcript = await relay.send(MARIE, message, sender="noreply@example.com")
    assert transcript.data is not None and transcript.data.startswith("250")
    (delivered,) = relay.delivered
    assert delivered.rcpt_tos == [MARIE]
    copy = email.message_from_bytes(delivered.content)
    assert copy.get_all("List-Unsubscribe") == ["<https://example.com/prefs>"]
    assert copy.get("List-Unsubscribe-Post") is None
    body = delivered.content.split(b"\r\n\r\n", 1)[1]
    assert body == message.split(b"\r\n\r\n", 1)[1]  # body byte-identical: no footer


async def test_bare_transactional_mail_from_elsewhere_keeps_every_check(
    full_relay: FullRelayFactory,
) -> None:
    """Issue 11: from 127.0.0.2 (allowed to relay, not in sender_networks, no AUTH) the same
    MAIL FROM is an ordinary sender: Marie, with no consent, is refused."""
    relay = await full_relay()
    message = make_message(MARIE, from_="Shop <noreply@example.com>", subject="Offer")
    transcript = await relay.send(
        MARIE, message, sender="noreply@example.com", source_address="127.0.0.2"
    )
    assert transcript.rcpt[MARIE].startswith("550 5.7.1 b2c-no-consent")
    assert relay.delivered == []


async def test_rewriting_a_dkim_signed_message_without_a_key_is_logged(
    full_relay: FullRelayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    caplog.set_level(logging.WARNING, logger="proxy.copies")
    signed = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; b=abc\r\n" + make_message(
        MARIE
    )
    assert (await relay.send(MARIE, signed)).data.startswith("250")  # type: ignore[union-attr]
    warnings = [r.getMessage() for r in caplog.records if r.name == "proxy.copies"]
    assert any("invalidated the message's DKIM signature" in w for w in warnings)
    # An unsigned message rewritten the same way gives no such warning.
    caplog.clear()
    assert (await relay.send(MARIE)).data.startswith("250")  # type: ignore[union-attr]
    assert not [r for r in caplog.records if "DKIM" in r.getMessage()]
