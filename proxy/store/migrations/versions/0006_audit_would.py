"""Monitor mode in the audit trail: the action enforce mode would have taken, and its rules.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("would_action", sa.String(16)))
        batch.add_column(sa.Column("would_rule_ids", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("would_rule_ids")
        batch.drop_column("would_action")
