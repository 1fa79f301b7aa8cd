"""The suppression-list size metric follows the database, whoever wrote to it."""

from __future__ import annotations

import pytest

from proxy.lifecycle import SuppressionGauge
from proxy.metrics import Metrics
from proxy.model import SuppressionOrigin
from proxy.store import Store

pytestmark = pytest.mark.postgres


def _value(metrics: Metrics) -> float | None:
    return metrics.registry.get_sample_value("prospect_relay_suppression_entries")


async def test_gauge_counts_entries_written_elsewhere(store: Store) -> None:
    metrics = Metrics()
    await store.add_suppression(address="a@example.org", origin=SuppressionOrigin.MANUAL)
    await store.add_suppression(domain="spam.example", origin=SuppressionOrigin.MANUAL)
    gauge = SuppressionGauge(store, metrics, interval=3600)
    await gauge.start()
    try:
        assert _value(metrics) == 2
        # Another instance or `prospect-relay suppress add` writes: the next refresh sees it.
        await store.add_suppression(address="b@example.org", origin=SuppressionOrigin.IMPORT)
        await gauge.refresh()
        assert _value(metrics) == 3
    finally:
        await gauge.stop()
