"""Imported SHA-256 suppressions keyed: each stored hash becomes HMAC(secret key, SHA-256).

Until this revision, `suppress import` stored other tools' plain SHA-256 hashes as they came,
so whoever had the database or an export could test candidate addresses against them. The
relay now stores and looks them up keyed (proxy.store.hashing.keyed_sha256); this re-keys the
rows already there. It needs the relay's secret key (`prospect-relay db upgrade` passes it);
a database without such rows needs none.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from proxy.errors import StoreUnavailable
from proxy.store.hashing import keyed_sha256

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SUPPRESSIONS = sa.table(
    "suppressions", sa.column("id", sa.Integer), sa.column("hash"), sa.column("kind")
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_SUPPRESSIONS.c.id, _SUPPRESSIONS.c.hash).where(_SUPPRESSIONS.c.kind == "sha256")
    ).all()
    if not rows:
        return
    key = context.config.attributes.get("hash_key")
    if not key:
        raise StoreUnavailable(
            f"{len(rows)} imported SHA-256 suppressions must be re-keyed with the secret key: "
            "run `prospect-relay db upgrade` with the relay's settings ([security])"
        )
    connection.execute(
        _SUPPRESSIONS.update()
        .where(_SUPPRESSIONS.c.id == sa.bindparam("row_id"))
        .values(hash=sa.bindparam("keyed")),
        [{"row_id": row.id, "keyed": keyed_sha256(key, row.hash)} for row in rows],
    )


def downgrade() -> None:
    raise StoreUnavailable(
        "revision 0004 cannot be undone: keyed hashes cannot be turned back into plain "
        "SHA-256 (re-import the other tool's list after downgrading)"
    )
