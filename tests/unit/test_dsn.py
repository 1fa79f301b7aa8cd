"""The delivery status notification, read back with the standard library's parser as oracle."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message

import pytest

from proxy import replies
from proxy.dsn import build_dsn, final_status
from proxy.replies import SmtpReply

ORIGINAL = b"From: alice@example.com\r\nSubject: Offer\r\n\r\nthe body is not reported\r\n"
REFUSED = replies.for_upstream(550, "5.1.1 no such user", "q1")
BUSY = replies.for_upstream(451, "4.2.1 mailbox busy", "q1")


def _dsn(refused: dict[str, SmtpReply], mail_from: str = "alice@example.com") -> bytes:
    return build_dsn(
        hostname="relay.test",
        queue_id="q1",
        mail_from=mail_from,
        refused=refused,
        message=ORIGINAL,
    )


def _parse(raw: bytes) -> EmailMessage:
    # The bytes parser reads header octets as ASCII; UTF-8 headers (SMTPUTF8) parse as text.
    parsed = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.defects == []
    return parsed


def _blocks(report: EmailMessage) -> list[Message]:
    [status] = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]
    blocks = status.get_payload()
    assert isinstance(blocks, list)
    return blocks


def test_the_report_is_a_multipart_report_with_its_three_parts() -> None:
    report = _parse(_dsn({"carol@example.org": REFUSED}))

    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    assert [p.get_content_type() for p in report.iter_parts()] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert report["To"].addresses[0].addr_spec == "alice@example.com"
    assert report["From"].addresses[0].addr_spec == "MAILER-DAEMON@relay.test"
    assert report["Auto-Submitted"] == "auto-replied"
    assert report["X-Prospect-Relay-Queue-Id"] == "q1"


def test_each_refused_recipient_has_its_own_status_block() -> None:
    report = _parse(_dsn({"carol@example.org": REFUSED, "dave@example.org": BUSY}))

    per_message, *per_recipient = _blocks(report)
    assert per_message["Reporting-MTA"] == "dns; relay.test"
    assert per_message["X-Prospect-Relay-Queue-Id"] == "q1"
    assert per_message["Arrival-Date"]
    fields = [
        (b["Final-Recipient"], b["Action"], b["Status"], b["Diagnostic-Code"])
        for b in per_recipient
    ]
    assert fields == [
        ("rfc822; carol@example.org", "failed", "5.1.1", f"smtp; {REFUSED.line}"),
        # "failed" agrees with a 5.x.x status (RFC 3464 2.3.4); the diagnostic keeps the 4xx
        ("rfc822; dave@example.org", "failed", "5.2.1", f"smtp; {BUSY.line}"),
    ]


def test_the_text_part_lists_the_refusals_and_says_nothing_retries() -> None:
    text = _parse(_dsn({"dave@example.org": BUSY})).get_body(preferencelist=("plain",))
    assert text is not None
    content = " ".join(text.get_content().split())
    assert f"<dave@example.org>: {BUSY.line}" in content
    assert "will not try again" in content
    permanent = _parse(_dsn({"carol@example.org": REFUSED})).get_body(preferencelist=("plain",))
    assert permanent is not None and "try again" not in permanent.get_content()


def test_only_the_original_headers_are_attached() -> None:
    report = _parse(_dsn({"carol@example.org": REFUSED}))
    [headers] = [p for p in report.walk() if p.get_content_type() == "text/rfc822-headers"]
    content = headers.get_content()
    assert "Subject: Offer" in content
    assert "the body is not reported" not in content


def test_a_long_reply_is_folded_and_reads_back_whole() -> None:
    long = replies.for_upstream(550, "5.7.1 " + "policy text " * 20, "q1")
    raw = _dsn({"carol@example.org": long})
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    [_, block] = _blocks(_parse(raw))
    assert " ".join(block["Diagnostic-Code"].split()) == f"smtp; {long.line}"


@pytest.mark.parametrize(
    ("mail_from", "recipient"),
    [("josé@exemple.fr", "carol@example.org"), ("alice@example.com", "zoé@exemple.fr")],
)
def test_a_non_ascii_address_is_written_as_utf8(mail_from: str, recipient: str) -> None:
    raw = _dsn({recipient: REFUSED}, mail_from=mail_from)
    assert recipient.encode() in raw and mail_from.encode() in raw  # raw UTF-8, no RFC 2047
    report = _parse(raw)
    assert report["To"].addresses[0].addr_spec == mail_from
    [_, block] = _blocks(report)
    kind = "rfc822" if recipient.isascii() else "utf-8"
    assert block["Final-Recipient"] == f"{kind}; {recipient}"


def test_lines_end_with_crlf_only() -> None:
    raw = _dsn({"carol@example.org": REFUSED, "dave@example.org": BUSY})
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert raw.count(b"\r") == raw.count(b"\r\n")


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (SmtpReply(550, "5.7.1", "x"), "5.7.1"),
        (SmtpReply(451, "4.4.2", "x"), "5.4.2"),
        (SmtpReply(452, "4.5.3", "x"), "5.5.3"),
    ],
)
def test_final_status_is_permanent(reply: SmtpReply, status: str) -> None:
    assert final_status(reply) == status
