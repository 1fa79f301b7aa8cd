"""The reply table: codes, enhanced codes, queue ids and sanitizing, and the wire contract."""

from __future__ import annotations

import re

import pytest

from proxy import replies
from proxy.model import Action, Finding, RecipientDecision, Stage
from proxy.replies import SmtpReply

_WELL_FORMED = re.compile(r"^[245]\d\d [245]\.\d{1,3}\.\d{1,3} [\x20-\x7e]+$")
_INTERMEDIATE = re.compile(r"^3\d\d [\x20-\x7e]+$")  # 354: no enhanced code (RFC 2034)


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
        replies.upstream_busy("q1"),
        replies.upstream_no_smtputf8("q1"),
        replies.upstream_accepted("ok \x00 queued"),
        replies.outbox_written("1.P2Q3N4.host"),
        replies.message_accepted("q1", "outbox"),
        replies.content_limit("limit.size", "too big", "q1"),
        replies.content_limit("limit.header-line", "line too long", "q1"),
        replies.syntax_error("DATA"),
        *(
            replies.path_error(p, sender=s)
            for p in ("syntax", "smtputf8", "routing", "x")
            for s in (True, False)
        ),
    ],
)
def test_every_reply_is_well_formed(reply: SmtpReply) -> None:
    line = reply.line
    if reply.code == 354:
        assert _INTERMEDIATE.match(line) and not reply.enhanced, line
        return
    assert _WELL_FORMED.match(line), line
    assert line[0] == reply.enhanced[0]
    assert str(reply) == line


# The replies README.md documents (the wire contract clients and operators rely on): written
# out literally here, so a change to a constant is a visible change to this list.
@pytest.mark.parametrize(
    ("reply", "line"),
    [
        (replies.SENDER_OK, "250 2.1.0 Sender ok"),
        (replies.RECIPIENT_OK, "250 2.1.5 Recipient ok"),
        (replies.START_DATA, "354 End data with <CR><LF>.<CR><LF>"),
        (replies.AUTH_REQUIRED, "530 5.7.0 Authentication required"),
        (replies.RELAY_DENIED, "550 5.7.1 relay access denied"),
        (replies.SHUTTING_DOWN, "421 4.3.2 Service shutting down, try again later"),
        (replies.TOO_MANY_CONNECTIONS, "421 4.7.0 Too many connections, try again later"),
        (replies.MESSAGE_TOO_BIG, "552 5.3.4 Message size exceeds fixed maximum message size"),
        (replies.AUTH_INVALID, "535 5.7.8 Authentication credentials invalid"),
        (replies.local_error("q"), "451 4.3.0 Local error, try again later [q=q]"),
        (
            replies.store_unavailable("q"),
            "451 4.3.0 Compliance data temporarily unavailable, try again later [q=q]",
        ),
        (replies.upstream_busy("q"), "451 4.4.5 Upstream connections busy, try again later [q=q]"),
        (
            replies.upstream_lost_after_data("q"),
            "451 4.4.2 Upstream connection lost after end of data, delivery unknown [q=q]",
        ),
        (replies.message_accepted("q", "outbox"), "250 2.0.0 Ok: accepted by outbox [q=q]"),
        (replies.content_limit("limit.size", "too big"), "552 5.3.4 Message refused: too big"),
        (
            replies.content_limit("limit.header-line", "line too long"),
            "554 5.6.0 Message refused: line too long",
        ),
    ],
)
def test_documented_replies_render_to_the_documented_lines(reply: SmtpReply, line: str) -> None:
    assert reply.line == line


@pytest.mark.parametrize(
    ("reply", "success", "temporary", "permanent", "klass"),
    [
        (replies.SENDER_OK, True, False, False, "2xx"),
        (replies.START_DATA, False, False, False, "3xx"),
        (replies.local_error(), False, True, False, "4xx"),
        (replies.RELAY_DENIED, False, False, True, "5xx"),
    ],
)
def test_reply_classes(
    reply: SmtpReply, success: bool, temporary: bool, permanent: bool, klass: str
) -> None:
    assert (reply.is_success, reply.is_temporary, reply.is_permanent) == (
        success,
        temporary,
        permanent,
    )
    assert reply.code_class == klass


def test_ehlo_capabilities_are_one_multiline_250() -> None:
    assert replies.capabilities(["relay.test", "PIPELINING", "SMTPUTF8"]) == (
        "250-relay.test\r\n250-PIPELINING\r\n250 SMTPUTF8"
    )


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
    assert replies.for_upstream(code, message, "q").line == expected


def test_decisions_map_to_rcpt_replies() -> None:
    finding = Finding(rule="suppressed", action=Action.REJECT, reason="recipient objected")
    reject = RecipientDecision("a@b.c", Action.REJECT, Stage.RCPT, findings=(finding,))
    assert replies.for_decision(reject, "q").line == (
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
