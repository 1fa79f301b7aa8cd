"""Initial schema: contacts, suppressions, sends, audit records.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)  # proxy.store.tables.UtcDateTime stores through this


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("country", sa.String(2)),
        sa.Column("source", sa.Text()),
        sa.Column("source_kind", sa.String(16)),
        sa.Column("collected_at", sa.Date()),
        sa.Column("consent", sa.String(16), server_default="none", nullable=False),
        sa.Column("consent_at", sa.Date()),
        sa.Column("consent_method", sa.String(16)),
        sa.Column("consent_proof", sa.Text()),
        sa.Column("consent_controller", sa.String(200)),
        sa.Column("partner_named", sa.Boolean()),
        sa.Column("customer_of", sa.Text()),
        sa.Column("last_purchase", sa.Date()),
        sa.Column("objection_offered", sa.Boolean()),
        sa.Column("marketing_refused", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("job_function", sa.String(200)),
        sa.Column("last_interaction", sa.Date()),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("email", name="uq_contacts_email"),
    )
    op.create_index(
        "ix_contacts_address_hash_prefix",
        "contacts",
        [sa.func.substr(sa.column("address_hash"), 1, 16)],
    )

    op.create_table(
        "suppressions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_suppressions"),
        sa.UniqueConstraint("hash", "kind", "scope", name="uq_suppressions_hash_kind_scope"),
    )

    op.create_table(
        "sends",
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("first_message_at", _TS),
        sa.Column("repermission_at", _TS),
        sa.PrimaryKeyConstraint("address_hash", name="pk_sends"),
    )

    op.create_table(
        "audit_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("queue_id", sa.String(64), nullable=False),
        sa.Column("campaign", sa.String(200)),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("recipient_hash", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("instance", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_records"),
    )
    op.create_index("ix_audit_records_created_at", "audit_records", ["created_at"])
    op.create_index(
        "ix_audit_records_campaign_created_at", "audit_records", ["campaign", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("audit_records")
    op.drop_table("sends")
    op.drop_table("suppressions")
    op.drop_table("contacts")
