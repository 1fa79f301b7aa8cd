"""The retention purge: compute the cutoffs from settings and policy, count or delete."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.policy.derive import months_before
from proxy.policy.policy_file import Retention
from proxy.settings import AuditSettings
from proxy.store.purge import PurgeCounts, PurgeCutoffs, count_purgeable, purge

__all__ = ["PurgeCounts", "PurgeCutoffs", "cutoffs", "run_purge"]


def cutoffs(audit: AuditSettings, retention: Retention, now: datetime) -> PurgeCutoffs:
    """Audit records: `audit.retention_days` before now. Contacts: the policy's windows in
    months before today (UTC), the same arithmetic the stale-prospect rule uses."""
    today = now.date()
    return PurgeCutoffs(
        audit_before=now - timedelta(days=audit.retention_days),
        prospect_before=months_before(today, retention.prospect_months),
        customer_before=months_before(today, retention.customer_months),
    )


async def run_purge(engine: AsyncEngine, limits: PurgeCutoffs, *, dry_run: bool) -> PurgeCounts:
    """Remove (or with `dry_run` only count) what is past its retention window."""
    if dry_run:
        return await count_purgeable(engine, limits)
    return await purge(engine, limits)
