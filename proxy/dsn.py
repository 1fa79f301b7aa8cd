"""The delivery status notification (RFC 3464) the relay sends about refused recipients.

When a message was accepted for some recipients and refused for others after RCPT (by a
DATA-stage rule or by the upstream), SMTP's one reply after DATA cannot say so: the client
gets 250 and the sender this report, a multipart/report with a readable text part, one
message/delivery-status block per refused recipient and the original headers
(text/rfc822-headers). Built with the standard library's `EmailMessage`, which chooses the
boundary and folds the fields.
"""

from __future__ import annotations

import email.policy
import email.utils
import secrets
from collections.abc import Mapping
from email.message import EmailMessage, Message
from email.policy import Policy

from proxy.replies import SmtpReply

__all__ = ["build_dsn", "final_status"]


def build_dsn(
    *,
    hostname: str,
    queue_id: str,
    mail_from: str,
    refused: Mapping[str, SmtpReply],
    message: bytes,
) -> bytes:
    """The report to `mail_from` about the `refused` recipients of `message` (CRLF lines).

    A non-ASCII address is written as raw UTF-8 (RFC 6531/6533), so the whole report is then
    generated with the SMTPUTF8 policy: the SMTP policy would RFC 2047-encode it, which no
    reader could take back as an address.
    """
    utf8 = not mail_from.isascii() or not all(address.isascii() for address in refused)
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    date = email.utils.formatdate()
    report = EmailMessage(policy=policy)
    report["From"] = f"Mail Delivery System <MAILER-DAEMON@{hostname}>"
    report["To"] = f"<{mail_from}>"
    report["Subject"] = "Undelivered Mail: some recipients were refused"
    report["Date"] = date
    report["Message-ID"] = f"<{queue_id}.{secrets.token_hex(4)}.dsn@{hostname}>"
    report["Auto-Submitted"] = "auto-replied"
    report["X-Prospect-Relay-Queue-Id"] = queue_id
    notice = _notice(hostname, queue_id, refused)
    report.set_content(notice, cte=_cte(notice))
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status", requote=False)
    report.attach(_status(policy, hostname, queue_id, date, refused))
    report.attach(_original_headers(policy, message))
    return report.as_bytes()


def final_status(reply: SmtpReply) -> str:
    """The DSN `Status` for a recipient the relay gave up on (RFC 3464 2.3.4: it agrees with
    `Action: failed`): a temporary refusal becomes permanent here because nothing retries
    it; the `Diagnostic-Code` keeps the upstream's own 4xx reply."""
    return f"5{reply.enhanced[1:]}" if reply.is_temporary else reply.enhanced


def _cte(text: str) -> str:
    """7bit, or 8bit for UTF-8 text; never quoted-printable, so the text reads as is (its
    lines are bounded: a sanitized reply is at most 300 characters, a header line 998)."""
    return "7bit" if text.isascii() else "8bit"


def _notice(hostname: str, queue_id: str, refused: Mapping[str, SmtpReply]) -> str:
    lines = [
        f"Your message (queue id {queue_id}) was accepted by {hostname} for some",
        "recipients, but the recipients below were refused and did not receive it:",
        "",
        *(f"  <{address}>: {reply.line}" for address, reply in refused.items()),
        "",
    ]
    if any(reply.is_temporary for reply in refused.values()):
        lines += [
            "A 4xx reply above was temporary, but this relay keeps no queue and will not",
            "try again: send the message to those recipients again later.",
            "",
        ]
    return "\n".join(lines)


def _fields(policy: Policy, fields: Mapping[str, str]) -> Message:
    """One block of a message/delivery-status part (RFC 3464 2.1: header-style fields)."""
    block = Message(policy=policy)
    for name, value in fields.items():
        block[name] = value
    return block


def _status(
    policy: Policy, hostname: str, queue_id: str, date: str, refused: Mapping[str, SmtpReply]
) -> EmailMessage:
    per_message = {
        "Reporting-MTA": f"dns; {hostname}",
        "X-Prospect-Relay-Queue-Id": queue_id,
        "Arrival-Date": date,
    }
    per_recipient = [
        {
            "Final-Recipient": f"{'rfc822' if address.isascii() else 'utf-8'}; {address}",
            "Action": "failed",  # the relay keeps no queue: a refused recipient is not retried
            "Status": final_status(reply),
            "Diagnostic-Code": f"smtp; {reply.line}",
        }
        for address, reply in refused.items()
    ]
    part = EmailMessage(policy=policy)
    part["Content-Type"] = "message/delivery-status"
    part.set_payload([_fields(policy, block) for block in (per_message, *per_recipient)])
    return part


def _original_headers(policy: Policy, message: bytes) -> EmailMessage:
    """The header section of the refused message (RFC 6522 text/rfc822-headers).

    Headers that are not UTF-8 (raw 8-bit from a broken client) are shown with U+FFFD: the
    part is for the sender to recognise the message, not a copy to parse back.
    """
    end = message.find(b"\r\n\r\n")
    headers = (message[: end + 2] if end >= 0 else message).decode("utf-8", "replace")
    part = EmailMessage(policy=policy)
    part.set_content(headers, subtype="rfc822-headers", cte=_cte(headers))
    return part
