"""The `audit_records` table's side of an `AuditRecord`: the batch insert and the way back.

The buffered writer (audit_writer) calls `AuditRows.record_audit`; the export streams rows
as stored (audit_export); the copy of a person's data reads them back with
`audit_record_from_row` (rights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from proxy.model import Action, Basis
from proxy.store.guard import Guard
from proxy.store.records import AuditRecord
from proxy.store.tables import audit_records

__all__ = ["AuditRows", "audit_record_from_row"]


class AuditRows:
    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    async def record_audit(self, records: Sequence[AuditRecord]) -> None:
        """Insert a batch in one transaction (the audit writer retries or splits it)."""
        if not records:
            return
        rows = [
            {
                "created_at": record.created_at,
                "queue_id": record.queue_id,
                "campaign": record.campaign,
                "sender_hash": record.sender_hash,
                "recipient_hash": record.recipient_hash,
                "country": record.country,
                "action": record.action.value,
                "rule_ids": ",".join(record.rule_ids),
                "basis": record.basis.value,
                "basis_detail": record.basis_detail,
                "instance": record.instance,
                "would_action": record.would_action.value if record.would_action else None,
                "would_rule_ids": ",".join(record.would_rule_ids) or None,
            }
            for record in records
        ]
        async with self._guard.write("recording audit records") as connection:
            await connection.execute(audit_records.insert(), rows)


def audit_record_from_row(row: Mapping[Any, Any]) -> AuditRecord:
    """The record a row of `audit_records` holds (the inverse of `record_audit`)."""
    would_action = row["would_action"]
    return AuditRecord(
        created_at=row["created_at"],
        queue_id=row["queue_id"],
        campaign=row["campaign"],
        sender_hash=row["sender_hash"],
        recipient_hash=row["recipient_hash"],
        country=row["country"],
        action=Action(row["action"]),
        rule_ids=tuple(row["rule_ids"].split(",")) if row["rule_ids"] else (),
        basis=Basis(row["basis"]),
        instance=row["instance"],
        basis_detail=row["basis_detail"],
        would_action=Action(would_action) if would_action else None,
        would_rule_ids=tuple(row["would_rule_ids"].split(",")) if row["would_rule_ids"] else (),
    )
