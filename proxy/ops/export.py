"""Write the audit trail of a period as CSV, row by row, for an auditor."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.ops.csv_cells import safe_row
from proxy.ops.report_format import iso_utc
from proxy.store.audit_export import EXPORT_COLUMNS, stream_audit_rows

__all__ = ["EXPORT_COLUMNS", "write_audit_csv"]

_CREATED_AT = EXPORT_COLUMNS.index("created_at")


async def write_audit_csv(
    engine: AsyncEngine, since: datetime, until: datetime | None, out: TextIO
) -> int:
    """Header, then one row per recipient decision (columns: EXPORT_COLUMNS); returns rows.

    created_at is ISO 8601 UTC to the microsecond (`2025-03-01T09:30:00.123456Z`); a missing
    campaign or country is an empty field; rule_ids stays comma-separated (quoted by the CSV
    writer); a text starting like a formula gets a leading `'` (proxy.ops.csv_cells).
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    rows = 0
    async for batch in stream_audit_rows(engine, since, until):
        formatted = []
        for row in batch:
            values = list(row)
            values[_CREATED_AT] = iso_utc(values[_CREATED_AT], "microseconds")
            formatted.append(safe_row(values))
        writer.writerows(formatted)
        rows += len(formatted)
    return rows
