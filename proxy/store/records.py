"""Value types the store returns besides those of proxy.model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from proxy.model import Action, Basis, SuppressionOrigin

__all__ = ["AuditRecord", "FeedbackEntry", "ForgetResult", "SuppressionEntry", "UpsertResult"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One recipient decision as kept for reports: hashes only, no clear-text address."""

    created_at: datetime
    queue_id: str
    sender_hash: str
    recipient_hash: str
    action: Action
    rule_ids: tuple[str, ...] = ()
    basis: Basis = Basis.NONE
    campaign: str | None = None
    country: str | None = None
    instance: str = ""
    basis_detail: str | None = None  # JSON, see proxy.rights.basis_detail
    would_action: Action | None = None  # monitor mode: the refusal not enforced
    would_rule_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    """One row of the suppression list, as exported and imported."""

    hash: str
    kind: str  # tables.HASH_KIND_ADDRESS | HASH_KIND_DOMAIN | HASH_KIND_SHA256
    scope: str
    origin: SuppressionOrigin
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ForgetResult:
    contact_deleted: bool
    sends_deleted: bool
    suppression_created: bool  # False when the person was already suppressed globally


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int
    updated: int
    suppressions_created: int
    duplicates: int = 0  # rows superseded by a later row for the same address


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    """One bounce or complaint as it came back (the trail behind a bounce suppression)."""

    created_at: datetime
    address_hash: str
    kind: str  # hard-bounce | soft-bounce | complaint
    status: str  # RFC 3463 code, or the complaint's feedback type
    source: str  # dsn | arf | ses | sendgrid | mailgun | postmark
    campaign: str | None = None
    detail: str | None = None
    suppressed: bool = False
