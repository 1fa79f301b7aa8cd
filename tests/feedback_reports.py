"""Bounces and complaints as mailbox providers write them, for the feedback tests."""

from __future__ import annotations

__all__ = ["arf_report", "dsn", "plain_bounce"]


def dsn(
    final_recipient: str,
    status: str,
    *,
    returned_headers: str = "",
    action: str = "failed",
) -> bytes:
    """An RFC 3464 multipart/report from a remote MTA, CRLF lines."""
    lines = [
        "From: Mail Delivery System <MAILER-DAEMON@mx.gmail.test>",
        "To: <bounce-address-unknown@relay.test>",
        "Subject: Undelivered Mail Returned to Sender",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"',
        "",
        "--BOUND",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "I'm sorry to have to inform you that your message could not be delivered.",
        "",
        "--BOUND",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.gmail.test",
        "",
        f"Final-Recipient: rfc822; {final_recipient}",
        f"Action: {action}",
        f"Status: {status}",
        f"Diagnostic-Code: smtp; 550 {status} The email account does not exist",
        "",
        "--BOUND",
        "Content-Type: text/rfc822-headers",
        "",
        returned_headers.strip("\r\n").replace("\n", "\r\n"),
        "",
        "--BOUND--",
        "",
    ]
    return "\r\n".join(lines).encode()


def plain_bounce(text: str) -> bytes:
    """A non-standard bounce: one text/plain body saying what went wrong."""
    return (
        "From: postmaster@old-mta.test\r\nSubject: failure notice\r\n"
        "Content-Type: text/plain\r\n\r\n" + text.replace("\n", "\r\n")
    ).encode()


def arf_report(returned_headers: str, feedback_type: str = "abuse") -> bytes:
    """An RFC 5965 feedback report, as a feedback loop (FBL) sends one."""
    lines = [
        "From: <staff@fbl.mailbox.test>",
        "To: <complaints@relay.test>",
        "Subject: FW: Our new collection",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
        "",
        "--ARF",
        "Content-Type: text/plain",
        "",
        "This is an email abuse report for an email message received from IP 192.0.2.1.",
        "",
        "--ARF",
        "Content-Type: message/feedback-report",
        "",
        f"Feedback-Type: {feedback_type}",
        "User-Agent: SomeGenerator/1.0",
        "Version: 1",
        "Original-Rcpt-To: <someone-else@gmail.com>",
        "",
        "--ARF",
        "Content-Type: text/rfc822-headers",
        "",
        returned_headers.strip("\r\n").replace("\n", "\r\n"),
        "",
        "--ARF--",
        "",
    ]
    return "\r\n".join(lines).encode()
