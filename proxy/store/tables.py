"""SQLAlchemy table definitions of the register, the suppression list and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "HASH_KIND_ADDRESS",
    "HASH_KIND_DOMAIN",
    "HASH_KIND_SHA256",
    "HASH_PREFIX_LENGTH",
    "UtcDateTime",
    "audit_records",
    "contacts",
    "feedback_events",
    "has_hash",
    "metadata",
    "rights_requests",
    "sends",
    "suppressions",
    "webhook_deliveries",
]

# What a suppression's `hash` column holds: the keyed hash of an address, the keyed hash of
# a domain (domain-wide), or a plain SHA-256 of an address imported from another tool.
HASH_KIND_ADDRESS = "address"
HASH_KIND_DOMAIN = "domain"
HASH_KIND_SHA256 = "sha256"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite drops the zone, so we put it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


contacts = Table(
    "contacts",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised address
    Column("address_hash", String(64), nullable=False),
    Column("kind", String(16)),
    Column("country", String(2)),
    Column("source", Text),
    Column("source_kind", String(16)),
    Column("collected_at", Date),
    Column("consent", String(16), nullable=False, server_default="none"),
    Column("consent_at", Date),
    Column("consent_method", String(16)),
    Column("consent_proof", Text),
    Column("consent_controller", String(200)),
    Column("partner_named", Boolean),
    Column("customer_of", Text),  # product families, ";"-separated
    Column("last_purchase", Date),
    Column("objection_offered", Boolean),
    Column("marketing_refused", Boolean, nullable=False, server_default="0"),
    Column("job_function", String(200)),
    Column("last_interaction", Date),
    Column("contract_until", Date),  # migration 0002
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
# Lookups by hash (reports joining audit records, token pages) go through a 64-bit prefix:
# indexing the full random 64-character hash cost a third of a 1M-row import's time.
HASH_PREFIX_LENGTH = 16
Index(
    "ix_contacts_address_hash_prefix",
    func.substr(contacts.c.address_hash, 1, HASH_PREFIX_LENGTH),
)


def has_hash(column: ColumnElement[str], value: str) -> ColumnElement[bool]:
    """`column = value` for a keyed hash, through the 64-bit prefix index."""
    return and_(
        func.substr(column, 1, HASH_PREFIX_LENGTH) == value[:HASH_PREFIX_LENGTH], column == value
    )


suppressions = Table(
    "suppressions",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("hash", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("scope", String(100), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Suppressing twice is an upsert, never a duplicate; the index also serves lookups by hash.
    UniqueConstraint("hash", "kind", "scope"),
)

sends = Table(
    "sends",
    metadata,
    # Recorded by the relay, also for recipients that are not in the register.
    Column("address_hash", String(64), primary_key=True),
    Column("first_message_at", UtcDateTime),
    Column("repermission_at", UtcDateTime),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("queue_id", String(64), nullable=False),
    Column("campaign", String(200)),
    Column("sender_hash", String(64), nullable=False),
    Column("recipient_hash", String(64), nullable=False),
    Column("country", String(2)),
    Column("action", String(16), nullable=False),
    Column("rule_ids", Text, nullable=False),  # comma-separated rule IDs
    Column("basis", String(32), nullable=False),
    # What the basis rested on when the message was sent (JSON: product family, job function
    # and targets, consent date and method): the "why am I receiving this?" page shows it.
    Column("basis_detail", Text),
    Column("instance", String(100), nullable=False),
    # monitor mode: what enforce mode would have done (NULL when it did it)
    Column("would_action", String(16)),
    Column("would_rule_ids", Text),
    Index(None, "campaign", "created_at"),
)
# A person's own records (the copy of their data, the "why" page) through a 64-bit prefix,
# as for contacts: cheaper to maintain than an index of the full hash.
Index(
    "ix_audit_records_recipient_hash_prefix",
    func.substr(audit_records.c.recipient_hash, 1, HASH_PREFIX_LENGTH),
)

rights_requests = Table(
    "rights_requests",
    metadata,
    # A data subject's request from the unsubscribe page (GDPR art. 15 copy, art. 17 erasure):
    # the address hash only, so the record outlives the erasure it documents.
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # "access" | "erasure"
    Column("address_hash", String(64), nullable=False),
    Column("controller", String(100), nullable=False),
    Column("campaign", String(200)),
    Column("language", String(8), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=False),  # one month after the request (art. 12(3))
    Column("fulfilled_at", UtcDateTime),
    Column("outcome", String(200)),  # what was actually done, e.g. "sent", "erased"
    Column("notified_at", UtcDateTime),  # the controller was told (outbound webhook)
    Index(None, "fulfilled_at", "due_on"),
    Index(None, "address_hash", "kind"),
)

# Outbound webhooks: one row per (event, endpoint), written in the transaction of the fact it
# reports; the dispatcher delivers pending rows in id order per address (see feedback/).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False),  # webhook-id: the idempotency key
    Column("endpoint", String(100), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("address_hash", String(64)),
    Column("payload", Text, nullable=False),  # JSON of the event's data (no clear address)
    Column("created_at", UtcDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),  # an instance is delivering it until then
    Column("finished_at", UtcDateTime),
    Column("last_error", String(200)),
    UniqueConstraint("event_id", "endpoint"),
    Index(None, "endpoint", "state", "id"),
)

# Bounces and complaints as they came back (DSN, ARF, provider events): the trail behind a
# `bounce` / `complaint` suppression, the soft-bounce counter and the report's rates.
feedback_events = Table(
    "feedback_events",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("address_hash", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # hard-bounce | soft-bounce | complaint
    Column("status", String(32), nullable=False),  # 5.1.1, 4.2.2, abuse, ...
    Column("campaign", String(200)),
    Column("source", String(16), nullable=False),  # dsn | arf | ses | sendgrid | ...
    Column("detail", String(200)),
    Column("suppressed", Boolean, nullable=False),
    Index(None, "address_hash", "created_at"),
    Index(None, "campaign", "created_at"),
    Index(None, "created_at"),
)
