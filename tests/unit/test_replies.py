"""The reply table: codes, enhanced codes, queue ids and sanitizing."""

from __future__ import annotations

import re

import pytest

from proxy.model import Action, Finding, RecipientDecision, SmtpReply, Stage
from proxy.smtp import replies

_WELL_FORMED = re.compile(r"^[245]\d\d [245]\.\d{1,3}\.\d{1,3} [\x20-\x7e]+$")


@pytest.mark.parametrize(
    "reply",
    [
        value
        for name, value in vars(replies).items()
        if name.isupper() and isinstance(value, SmtpReply)
    ]
    + [
        replies.local_error("q1"),
        replies.store_unavailable("q1"),
        replies.upstream_unreachable("q1"),
        replies.upstream_timeout("q1"),
        replies.upstream_lost_after_data("q1"),
        replies.message_accepted("q1", "outbox"),
    ],
)
def test_every_reply_is_well_formed(reply: SmtpReply) -> None:
    line = replies.render(reply)
    assert _WELL_FORMED.match(line), line
    assert line[0] == reply.enhanced[0]


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (550, "5.1.1 no such user", "550 5.1.1 upstream: no such user [q=q]"),
        (450, "mailbox busy", "450 4.0.0 upstream: mailbox busy [q=q]"),
        (451, "5.1.1 wrong class", "451 4.0.0 upstream: wrong class [q=q]"),
        (554, "line one\nline two", "554 5.0.0 upstream: line one line two [q=q]"),
        (-1, "garbage", "451 4.4.0 Invalid response from upstream server [q=q]"),
        (552, "evil\x1b[31m\x00text", "552 5.0.0 upstream: evil?[31m?text [q=q]"),
    ],
)
def test_upstream_replies_keep_class_and_reason(code: int, message: str, expected: str) -> None:
    assert replies.render(replies.for_upstream(code, message, "q")) == expected


def test_decisions_map_to_rcpt_replies() -> None:
    finding = Finding(rule="suppressed", action=Action.REJECT, reason="recipient objected")
    reject = RecipientDecision("a@b.c", Action.REJECT, Stage.RCPT, findings=(finding,))
    assert replies.render(replies.for_decision(reject, "q")) == (
        "550 5.7.1 suppressed: recipient objected [q=q]"
    )
    temp = Finding(rule="store-unavailable", action=Action.TEMPFAIL, reason="db down")
    tempfail = RecipientDecision("a@b.c", Action.TEMPFAIL, Stage.RCPT, findings=(temp,))
    assert replies.for_decision(tempfail).code == 451
    forward = RecipientDecision("a@b.c", Action.REWRITE, Stage.RCPT)
    assert replies.for_decision(forward) is replies.RECIPIENT_OK


def test_summarize_prefers_a_temporary_refusal() -> None:
    permanent = SmtpReply(550, "5.7.1", "no")
    temporary = SmtpReply(451, "4.4.1", "later")
    assert replies.summarize([permanent, temporary]) is temporary
    assert replies.summarize([permanent]) is permanent
    assert replies.summarize([]).code == 451


def test_sanitize_bounds_length_and_strips_non_ascii() -> None:
    assert replies.sanitize("é\r\nx" * 200).startswith("? x")
    assert len(replies.sanitize("x" * 1000)) == 300
