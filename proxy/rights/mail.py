"""The email that answers an art. 15 request: everything held under the address, as text.

Plain text in the recipient's language: every register column with its label (and its CSV
name, so the copy can be matched with the controller's files), the objections, the send
marks and the recorded decisions. It goes only to the address the register holds, which is
the address the message with the token was sent to: the mailbox is the proof of identity.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, fields
from datetime import date, datetime
from email.message import EmailMessage
from enum import Enum

from proxy.model import Contact
from proxy.rights.texts import FIELD_LABELS, TEXTS
from proxy.store.rights import HeldData

__all__ = ["CopyMail", "compose_copy"]


@dataclass(frozen=True, slots=True)
class CopyMail:
    """The message and its envelope."""

    mail_from: str
    recipient: str
    message: bytes


def _value(value: object) -> str:
    if value is None or value == ():
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def _contact_lines(contact: Contact, language: str) -> list[str]:
    # Every field, labelled or not: a column added later must still be in the copy.
    labels = FIELD_LABELS[language]
    return [
        f"  {labels.get(f.name, f.name)} ({f.name}): {_value(getattr(contact, f.name))}"
        for f in fields(contact)
    ]


def _body(held: HeldData, language: str, sender: str, requested: date) -> str:
    words = TEXTS[language]
    lines = [words["mail_intro"].format(date=requested.isoformat(), sender=sender), ""]
    lines.append(words["mail_contact_heading"])
    if held.contact is not None:
        lines.extend(_contact_lines(held.contact, language))
    else:
        lines.append("  " + words["mail_no_contact"])
    lines += ["", words["mail_suppressions_heading"]]
    if held.suppressions:
        lines.extend(
            f"  {created.date().isoformat()}  {scope}  ({origin.value})"
            for scope, origin, created in held.suppressions
        )
    else:
        lines.append("  " + words["mail_none"])
    lines += ["", words["mail_sends_heading"]]
    if held.first_message_at is not None:
        lines.append(f"  {words['mail_first_message']}: {held.first_message_at.date()}")
    if held.repermission_at is not None:
        lines.append(f"  {words['mail_repermission']}: {held.repermission_at.date()}")
    lines.append("  " + words["mail_records"].format(count=held.record_count))
    if held.record_count > len(held.records):
        lines.append("  " + words["mail_records_more"].format(shown=len(held.records)))
    lines.extend(
        f"  {r.created_at.strftime('%Y-%m-%d %H:%M')} UTC  {r.campaign or '-'}  "
        f"{r.action.value}  {r.basis.value}"
        for r in held.records
    )
    lines += ["", words["mail_outro"].format(sender=sender), ""]
    return "\n".join(lines)


def compose_copy(
    held: HeldData,
    *,
    language: str,
    sender: str,
    from_address: str,
    requested: date,
    hostname: str,
) -> CopyMail:
    """The copy for `held.contact.email`; the caller checks that there is a contact."""
    assert held.contact is not None
    recipient = held.contact.email
    message = EmailMessage()
    message["From"] = email.utils.formataddr((sender, from_address))
    message["To"] = recipient
    message["Subject"] = TEXTS[language]["mail_subject"].format(sender=sender)
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["Message-ID"] = email.utils.make_msgid(domain=hostname)
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: no vacation reply loops
    message["Content-Language"] = language
    message.set_content(_body(held, language, sender, requested), cte="quoted-printable")
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    return CopyMail(from_address, recipient, raw)
