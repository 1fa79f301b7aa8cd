"""Every SMTP reply the relay sends, and the one table from outcomes to replies.

The reply type (`SmtpReply`), the fixed replies (constants) and the replies built from an
outcome (factories: decisions, upstream results, limits, faults) all live here, so a code or
a text is changed in one place and tests compare against the same constants. The service
returns these objects; the SMTP layer (`proxy.smtp`) only writes `reply.line` and never
parses a reply back.

Codes stay consistent: policy rejections are `550 5.7.1 <rule-id>: <reason>`, local faults
`451 4.3.0`, upstream faults `451 4.4.x`, and upstream refusals are passed through with their
own class (4xx stays temporary, 5xx stays permanent). Text that came from outside (upstream
replies, rule reasons) is sanitized: no control characters, ASCII only, bounded length.

Not listed here: the replies aiosmtpd sends itself for the commands the relay does not
override (greeting, HELO, RSET, NOOP, QUIT, STARTTLS, the AUTH challenges and an unknown
command); `handle_exception` in `proxy.smtp.handler` turns any other fault into `local_error`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from proxy.model import Action, RecipientDecision

__all__ = [
    "AUTH_CANNOT_DECODE",
    "AUTH_CANNOT_SPLIT",
    "AUTH_INVALID",
    "AUTH_REQUIRED",
    "BAD_SEQUENCE_NEED_MAIL",
    "BAD_SEQUENCE_NEED_RCPT",
    "BAD_SEQUENCE_NESTED_MAIL",
    "MESSAGE_TOO_BIG",
    "NO_MAIL_IN_TIME",
    "NO_VALID_RECIPIENTS",
    "PARAMETER_NOT_SUPPORTED",
    "RECIPIENT_OK",
    "RELAY_DENIED",
    "SENDER_OK",
    "SESSION_TIME_LIMIT",
    "SHUTTING_DOWN",
    "START_DATA",
    "TOO_MANY_AUTH_FAILURES",
    "TOO_MANY_CONNECTIONS",
    "TOO_MANY_FROM_ADDRESS",
    "TOO_MANY_FROM_OUTSIDE",
    "TOO_MANY_RECIPIENTS",
    "SmtpReply",
    "capabilities",
    "content_limit",
    "for_decision",
    "for_upstream",
    "local_error",
    "message_accepted",
    "outbox_written",
    "path_error",
    "sanitize",
    "store_unavailable",
    "summarize",
    "syntax_error",
    "upstream_accepted",
    "upstream_busy",
    "upstream_lost_after_data",
    "upstream_no_smtputf8",
    "upstream_timeout",
    "upstream_unreachable",
]


@dataclass(frozen=True, slots=True)
class SmtpReply:
    """One reply: the basic code, its RFC 3463 enhanced status code and the text.

    `enhanced` is empty only for the intermediate 354 (RFC 2034 gives 3xx none).
    """

    code: int
    enhanced: str  # e.g. "5.7.1"
    text: str

    @property
    def line(self) -> str:
        """The reply line as sent on the wire (without CRLF)."""
        if not self.enhanced:
            return f"{self.code} {self.text}"
        return f"{self.code} {self.enhanced} {self.text}"

    def __str__(self) -> str:
        return self.line

    @property
    def is_success(self) -> bool:
        return 200 <= self.code < 300

    @property
    def is_temporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def is_permanent(self) -> bool:
        return self.code >= 500

    @property
    def code_class(self) -> str:
        """`2xx`, `3xx`, `4xx` or `5xx`, the label of the smtp_replies_total metric."""
        return f"{self.code // 100}xx"


_MAX_TEXT = 300
_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\s+")

SENDER_OK = SmtpReply(250, "2.1.0", "Sender ok")
RECIPIENT_OK = SmtpReply(250, "2.1.5", "Recipient ok")
AUTH_REQUIRED = SmtpReply(530, "5.7.0", "Authentication required")
RELAY_DENIED = SmtpReply(550, "5.7.1", "relay access denied")
TOO_MANY_RECIPIENTS = SmtpReply(452, "4.5.3", "Too many recipients")
MESSAGE_TOO_BIG = SmtpReply(552, "5.3.4", "Message size exceeds fixed maximum message size")
TOO_MANY_CONNECTIONS = SmtpReply(421, "4.7.0", "Too many connections, try again later")
SHUTTING_DOWN = SmtpReply(421, "4.3.2", "Service shutting down, try again later")
# Fair sessions (proxy/smtp/admission.py, README "Hostile clients"): every refusal says why.
TOO_MANY_FROM_OUTSIDE = SmtpReply(
    421, "4.7.0", "Too many connections from outside the allowed networks, try again later"
)
TOO_MANY_FROM_ADDRESS = SmtpReply(
    421, "4.7.0", "Too many connections from your address, try again later"
)
NO_MAIL_IN_TIME = SmtpReply(421, "4.7.0", "Timeout: no MAIL command in time, closing")
SESSION_TIME_LIMIT = SmtpReply(421, "4.7.0", "Session time limit reached, please reconnect")
TOO_MANY_AUTH_FAILURES = SmtpReply(421, "4.7.0", "Too many authentication failures, closing")
BAD_SEQUENCE_NESTED_MAIL = SmtpReply(503, "5.5.1", "Error: nested MAIL command")
BAD_SEQUENCE_NEED_MAIL = SmtpReply(503, "5.5.1", "Error: need MAIL command")
BAD_SEQUENCE_NEED_RCPT = SmtpReply(503, "5.5.1", "Error: need RCPT command")
NO_VALID_RECIPIENTS = SmtpReply(554, "5.5.1", "No valid recipients")
PARAMETER_NOT_SUPPORTED = SmtpReply(555, "5.5.4", "Parameter not recognized or not implemented")
START_DATA = SmtpReply(354, "", "End data with <CR><LF>.<CR><LF>")
# AUTH PLAIN/LOGIN (proxy/smtp/server.py); aiosmtpd sends the 334 challenges and 235 itself.
AUTH_CANNOT_DECODE = SmtpReply(501, "5.5.2", "Cannot decode base64")
AUTH_CANNOT_SPLIT = SmtpReply(501, "5.5.2", "Cannot split auth value")
AUTH_INVALID = SmtpReply(535, "5.7.8", "Authentication credentials invalid")


def sanitize(text: str, limit: int = _MAX_TEXT) -> str:
    """Make text safe to echo in a reply or a log: printable ASCII only, one line, bounded."""
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in " ".join(text.split()))
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return cleaned


def _tagged(text: str, queue_id: str | None) -> str:
    text = sanitize(text)
    return f"{text} [q={queue_id}]" if queue_id else text


def capabilities(lines: Sequence[str]) -> str:
    """The multi-line EHLO reply (RFC 5321 4.2.1: `250-` on every line but the last; EHLO
    replies carry no enhanced code)."""
    return "\r\n".join([*(f"250-{line}" for line in lines[:-1]), f"250 {lines[-1]}"])


def message_accepted(queue_id: str, destination: str) -> SmtpReply:
    return SmtpReply(250, "2.0.0", _tagged(f"Ok: accepted by {destination}", queue_id))


def upstream_accepted(text: str) -> SmtpReply:
    """The upstream's 250 after the final dot, kept (sanitized) for the decision log."""
    return SmtpReply(250, "2.0.0", sanitize(text))


def outbox_written(name: str) -> SmtpReply:
    """The outbox's answer once the file is on disk (for the decision log)."""
    return SmtpReply(250, "2.0.0", f"written to outbox as {name}")


def upstream_no_smtputf8(queue_id: str | None = None) -> SmtpReply:
    """An SMTPUTF8 message and an upstream that does not offer the extension."""
    return SmtpReply(553, "5.6.7", _tagged("Upstream does not support SMTPUTF8", queue_id))


def local_error(queue_id: str | None = None) -> SmtpReply:
    """A fault of ours (a bug, a crashing check): temporary, and it tells nothing internal."""
    return SmtpReply(451, "4.3.0", _tagged("Local error, try again later", queue_id))


def store_unavailable(queue_id: str | None = None) -> SmtpReply:
    return SmtpReply(
        451, "4.3.0", _tagged("Compliance data temporarily unavailable, try again later", queue_id)
    )


def upstream_unreachable(queue_id: str | None = None) -> SmtpReply:
    return SmtpReply(
        451, "4.4.1", _tagged("Upstream server unreachable, try again later", queue_id)
    )


def upstream_timeout(queue_id: str | None = None) -> SmtpReply:
    return SmtpReply(451, "4.4.2", _tagged("Upstream server timed out, try again later", queue_id))


def upstream_busy(queue_id: str | None = None) -> SmtpReply:
    """Every pooled upstream connection stayed busy for `upstream.timeout` (congestion)."""
    return SmtpReply(451, "4.4.5", _tagged("Upstream connections busy, try again later", queue_id))


def upstream_lost_after_data(queue_id: str | None = None) -> SmtpReply:
    """The upstream vanished after the final dot: it may have delivered; we cannot know."""
    return SmtpReply(
        451,
        "4.4.2",
        _tagged("Upstream connection lost after end of data, delivery unknown", queue_id),
    )


def for_upstream(code: int, message: str, queue_id: str | None = None) -> SmtpReply:
    """Pass an upstream refusal through: same class, its enhanced code and reason."""
    text = " ".join(message.split())
    if not 400 <= code < 600:
        return SmtpReply(451, "4.4.0", _tagged("Invalid response from upstream server", queue_id))
    klass = str(code // 100)
    enhanced = f"{klass}.0.0"
    match = _ENHANCED.match(text)
    if match:
        if match.group(1) == klass:
            enhanced = f"{klass}.{match.group(2)}.{match.group(3)}"
        text = text[match.end() :]
    return SmtpReply(code, enhanced, _tagged(f"upstream: {text}", queue_id))


# A message over a structural limit (proxy.mime.limits): sizes and counts are a resource
# limit of this system (5.3.4); a header line over 998 octets and an over-long campaign id
# are malformed media (5.6.0).
_LIMIT_CODES = {"limit.header-line": (554, "5.6.0"), "limit.campaign-header": (554, "5.6.0")}


def content_limit(reason_code: str, text: str, queue_id: str | None = None) -> SmtpReply:
    code, enhanced = _LIMIT_CODES.get(reason_code, (552, "5.3.4"))
    return SmtpReply(code, enhanced, _tagged(f"Message refused: {text}", queue_id))


def for_decision(decision: RecipientDecision, queue_id: str | None = None) -> SmtpReply:
    """A compliance decision for one recipient, as the reply to its RCPT (or in a DSN)."""
    if decision.action in (Action.FORWARD, Action.REWRITE):
        return RECIPIENT_OK
    finding = decision.deciding
    if finding is not None and finding.reason_code.startswith("limit."):
        return content_limit(finding.reason_code, finding.reason, queue_id)
    rule = finding.rule if finding else "policy"
    reason = finding.reason if finding else "refused by policy"
    if decision.action is Action.TEMPFAIL:
        return SmtpReply(451, "4.3.0", _tagged(f"{rule}: {reason}", queue_id))
    return SmtpReply(550, "5.7.1", _tagged(f"{rule}: {reason}", queue_id))


def syntax_error(usage: str) -> SmtpReply:
    return SmtpReply(501, "5.5.4", f"Syntax: {usage}")


def path_error(problem: str, *, sender: bool) -> SmtpReply:
    """An envelope address that is not acceptable (see proxy.smtp.addresses.Problem)."""
    if problem == "syntax":
        return syntax_error("MAIL FROM:<address>" if sender else "RCPT TO:<address>")
    if problem == "smtputf8":
        return SmtpReply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8")
    if problem == "routing":
        return SmtpReply(
            553, "5.7.1", "Routing address forms (source routes, %, !, IP literals) not accepted"
        )
    return SmtpReply(553, "5.1.7" if sender else "5.1.3", "Invalid mailbox address")


def summarize(refusals: list[SmtpReply]) -> SmtpReply:
    """One reply for a message whose every recipient was refused.

    Any temporary refusal wins (the client retries, and the permanent ones will be refused
    again then); otherwise the first permanent refusal, with its own reason.
    """
    for reply in refusals:
        if reply.is_temporary:
            return reply
    return refusals[0] if refusals else local_error()
