"""Data subjects' requests (copy, erasure) and the basis detail of each audit record.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)  # proxy.store.tables.UtcDateTime stores through this


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("controller", sa.String(100), nullable=False),
        sa.Column("campaign", sa.String(200)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("requested_at", _TS, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("fulfilled_at", _TS),
        sa.Column("outcome", sa.String(200)),
        sa.Column("notified_at", _TS),
        sa.PrimaryKeyConstraint("id", name="pk_rights_requests"),
    )
    op.create_index(
        "ix_rights_requests_fulfilled_at_due_on", "rights_requests", ["fulfilled_at", "due_on"]
    )
    op.create_index(
        "ix_rights_requests_address_hash_kind", "rights_requests", ["address_hash", "kind"]
    )
    op.add_column("audit_records", sa.Column("basis_detail", sa.Text()))
    op.create_index(
        "ix_audit_records_recipient_hash_prefix",
        "audit_records",
        [sa.func.substr(sa.column("recipient_hash"), 1, 16)],
    )


def downgrade() -> None:
    op.drop_index("ix_audit_records_recipient_hash_prefix", table_name="audit_records")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("basis_detail")
    op.drop_table("rights_requests")
