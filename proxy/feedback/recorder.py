"""Applies the `[bounces]` policy to a bounce or complaint that names an address hash:
the trail row, the suppression (origin bounce / complaint, global), the webhook event, the
metric and the log line. Used by the feedback mailboxes and the ESP event endpoints alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from proxy.feedback.events import EventType, new_event
from proxy.metrics import Metrics
from proxy.model import SuppressionOrigin
from proxy.policy.bounces import BounceKind, classify_status, should_suppress
from proxy.policy.holder import PolicyHolder
from proxy.store import Store
from proxy.store.records import FeedbackEntry

__all__ = ["COMPLAINT", "FeedbackRecorder"]

log = logging.getLogger(__name__)

COMPLAINT = "complaint"
_NOT_COMPLAINTS = frozenset({"not-spam"})  # ARF types that report no objection


class FeedbackRecorder:
    def __init__(
        self,
        store: Store,
        policy: PolicyHolder,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._policy = policy
        self._metrics = metrics
        self._clock = clock

    def _campaign_label(self, campaign: str | None) -> str:
        """Metric label: policy campaigns by name, anything else grouped (bounded labels)."""
        if campaign is None:
            return "none"
        return campaign if campaign in self._policy.current.campaigns else "other"

    async def bounce(
        self,
        address_hash: str,
        status: str,
        *,
        source: str,
        campaign: str | None = None,
        detail: str | None = None,
    ) -> FeedbackEntry | None:
        """Record a failed delivery; None when the status is no failure (nothing recorded)."""
        bounces = self._policy.current.bounces
        kind = classify_status(status, bounces)
        if kind is None:
            return None
        now = self._clock()
        soft = 0
        if kind is BounceKind.SOFT:
            since = now - timedelta(days=bounces.soft_window_days)
            earlier = await self._store.feedback_of(address_hash, since)
            soft = 1 + sum(1 for e in earlier if e.kind == BounceKind.SOFT.value)
        suppress = should_suppress(kind, soft, bounces)
        entry = FeedbackEntry(
            now, address_hash, kind.value, status, source, campaign, detail, suppress
        )
        event = new_event(
            EventType.BOUNCE,
            now,
            address_hash,
            kind=kind.value,
            status=status,
            source=source,
            campaign=campaign,
            suppressed=int(suppress),
        )
        origin = SuppressionOrigin.BOUNCE if suppress else None
        created = await self._store.record_feedback(entry, suppress=origin, event=event)
        self._count(entry, created)
        return entry

    async def complaint(
        self,
        address_hash: str,
        feedback_type: str,
        *,
        source: str,
        campaign: str | None = None,
    ) -> FeedbackEntry | None:
        """Record a spam complaint: an objection, suppressed globally (origin complaint)."""
        if feedback_type in _NOT_COMPLAINTS:
            return None
        now = self._clock()
        entry = FeedbackEntry(
            now, address_hash, COMPLAINT, feedback_type, source, campaign, None, True
        )
        event = new_event(
            EventType.COMPLAINT,
            now,
            address_hash,
            feedback_type=feedback_type,
            source=source,
            campaign=campaign,
        )
        created = await self._store.record_feedback(
            entry, suppress=SuppressionOrigin.COMPLAINT, event=event
        )
        self._count(entry, created)
        return entry

    def _count(self, entry: FeedbackEntry, created: bool) -> None:
        self._metrics.feedback_total.labels(
            entry.kind, entry.source, self._campaign_label(entry.campaign)
        ).inc()
        if created:
            self._metrics.suppression_entries.inc()
        log.info(
            "%s recorded: status=%s source=%s campaign=%s hash=%s suppressed=%s new=%s",
            entry.kind,
            entry.status,
            entry.source,
            entry.campaign or "-",
            entry.address_hash[:16],
            entry.suppressed,
            created,
        )
