"""Conversion between `Contact` values and rows of the contacts table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.model import ConsentMethod, ConsentState, Contact, Kind, SourceKind

__all__ = ["CONTACT_COLUMNS", "contact_to_row", "is_objection", "row_to_contact"]

# Every Contact field, in CSV order; each is a column of the contacts table.
CONTACT_COLUMNS: tuple[str, ...] = (
    "email",
    "kind",
    "country",
    "source",
    "source_kind",
    "collected_at",
    "consent",
    "consent_at",
    "consent_method",
    "consent_proof",
    "consent_controller",
    "partner_named",
    "customer_of",
    "last_purchase",
    "objection_offered",
    "marketing_refused",
    "job_function",
    "last_interaction",
    "contract_until",
)


def contact_to_row(contact: Contact) -> dict[str, Any]:
    """Column values of `contact` (email as given: the caller normalises it)."""
    row: dict[str, Any] = {name: getattr(contact, name) for name in CONTACT_COLUMNS}
    row["customer_of"] = ";".join(contact.customer_of) or None
    for name in ("kind", "source_kind", "consent", "consent_method"):
        if row[name] is not None:
            row[name] = str(row[name])
    return row


def row_to_contact(row: Mapping[Any, Any]) -> Contact:
    def enum_or_none(enum: Any, value: Any) -> Any:
        return None if value is None else enum(value)

    families = row["customer_of"]
    return Contact(
        email=row["email"],
        kind=enum_or_none(Kind, row["kind"]),
        country=row["country"],
        source=row["source"],
        source_kind=enum_or_none(SourceKind, row["source_kind"]),
        collected_at=row["collected_at"],
        consent=ConsentState(row["consent"]),
        consent_at=row["consent_at"],
        consent_method=enum_or_none(ConsentMethod, row["consent_method"]),
        consent_proof=row["consent_proof"],
        consent_controller=row["consent_controller"],
        partner_named=row["partner_named"],
        customer_of=tuple(families.split(";")) if families else (),
        last_purchase=row["last_purchase"],
        objection_offered=row["objection_offered"],
        marketing_refused=bool(row["marketing_refused"]),
        job_function=row["job_function"],
        last_interaction=row["last_interaction"],
        contract_until=row["contract_until"],
    )


def is_objection(row: Mapping[str, Any]) -> bool:
    """The person objected: consent withdrawn or marketing refused (→ a suppression)."""
    return row.get("consent") == ConsentState.WITHDRAWN.value or bool(row.get("marketing_refused"))
