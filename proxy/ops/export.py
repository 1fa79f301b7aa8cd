"""Write the audit trail of a period as CSV, row by row, for an auditor."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.ops.csv_cells import safe_row
from proxy.ops.report_format import iso_utc
from proxy.store.audit_export import EXPORT_COLUMNS, stream_audit_rows
from proxy.store.guard import store_errors
from proxy.store.tables import feedback_events

__all__ = ["EXPORT_COLUMNS", "FEEDBACK_COLUMNS", "write_audit_csv", "write_feedback_csv"]

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


FEEDBACK_COLUMNS = (
    "created_at",
    "address_hash",
    "kind",
    "status",
    "source",
    "campaign",
    "suppressed",
    "detail",
)


async def write_feedback_csv(
    engine: AsyncEngine, since: datetime, until: datetime | None, out: TextIO
) -> int:
    """Header, then one row per bounce or complaint received (FEEDBACK_COLUMNS), oldest
    first; suppressed is yes/no. Returns the number of rows."""
    columns = [feedback_events.c[name] for name in FEEDBACK_COLUMNS]
    statement = (
        select(*columns)
        .where(feedback_events.c.created_at >= since)
        .order_by(feedback_events.c.created_at, feedback_events.c.id)
    )
    if until is not None:
        statement = statement.where(feedback_events.c.created_at < until)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FEEDBACK_COLUMNS)
    rows = 0
    with store_errors("exporting bounces and complaints"):
        async with engine.connect() as connection:
            result = await connection.stream(statement.execution_options(yield_per=5000))
            async for row in result:
                values = list(row)
                values[0] = iso_utc(values[0], "microseconds")
                values[6] = "yes" if values[6] else "no"
                writer.writerow(["" if value is None else value for value in values])
                rows += 1
    return rows
