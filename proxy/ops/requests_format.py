"""Data subjects' requests for people and scripts: `report` and `prospect-relay requests`.

A request is `open` until fulfilled, `overdue` once open past its due date (one month after
it was received, GDPR art. 12(3)), else `fulfilled`. Only the address hash's first 16
characters are shown: enough to match `suppress check`/audit records, no address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from rich.table import Column, Table

from proxy.ops.periods import iso_utc
from proxy.ops.tables import table
from proxy.store.rights import RightsRequest

__all__ = ["request_counts", "request_document", "request_status", "requests_table"]


def request_status(request: RightsRequest, today: date) -> str:
    if request.fulfilled_at is not None:
        return "fulfilled"
    return "overdue" if request.due_on < today else "open"


def request_document(request: RightsRequest, today: date) -> dict[str, Any]:
    """One request as a JSON object (the `requests` key of `report --format json`)."""
    return {
        "id": request.id,
        "kind": request.kind.value,
        "status": request_status(request, today),
        "controller": request.controller,
        "campaign": request.campaign,
        "address_hash": request.address_hash[:16],
        "requested_at": iso_utc(request.requested_at),
        "due_on": request.due_on.isoformat(),
        "fulfilled_at": iso_utc(request.fulfilled_at) if request.fulfilled_at else None,
        "outcome": request.outcome,
        "controller_notified_at": iso_utc(request.notified_at) if request.notified_at else None,
    }


def request_counts(requests: Sequence[RightsRequest], today: date) -> Counter[tuple[str, str]]:
    """(kind, status) -> requests, for the CSV report."""
    return Counter((r.kind.value, request_status(r, today)) for r in requests)


def requests_table(requests: Sequence[RightsRequest], today: date, title: str) -> Table:
    headers = ("id", "kind", "status", "requested", "due", "fulfilled", "controller")
    columns: list[str | Column] = [*headers, Column("outcome", overflow="fold")]
    rows = (
        (
            str(r.id),
            r.kind.value,
            request_status(r, today),
            iso_utc(r.requested_at),
            r.due_on.isoformat(),
            iso_utc(r.fulfilled_at) if r.fulfilled_at else "-",
            r.controller,
            r.outcome or "-",
        )
        for r in requests
    )
    return table(title, columns, rows, empty=("(none)", "", "", "", "", "", "", ""))
