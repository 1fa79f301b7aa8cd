"""Feedback loops: the outbound webhook queue and the bounce/complaint trail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("address_hash", sa.String(64)),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("locked_until", _TS),
        sa.Column("finished_at", _TS),
        sa.Column("last_error", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("event_id", "endpoint", name="uq_webhook_deliveries_event_id_endpoint"),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_state_id",
        "webhook_deliveries",
        ["endpoint", "state", "id"],
    )
    op.create_table(
        "feedback_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("campaign", sa.String(200)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200)),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback_events"),
    )
    op.create_index(
        "ix_feedback_events_address_hash_created_at",
        "feedback_events",
        ["address_hash", "created_at"],
    )
    op.create_index(
        "ix_feedback_events_campaign_created_at", "feedback_events", ["campaign", "created_at"]
    )
    op.create_index("ix_feedback_events_created_at", "feedback_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("feedback_events")
    op.drop_table("webhook_deliveries")
