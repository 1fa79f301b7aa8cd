"""Prometheus metrics of the relay, on a registry owned by one `Metrics` object.

The registry is per instance (injectable), not the global default, so tests and several
relays in one process never share counters. Label values are small closed sets: actions,
rule IDs, reply classes and error kinds, never addresses.

Under several workers (proxy/supervisor.py) each process writes its values into the directory
named by PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen when the
library is imported) and `render` adds up every process's files: /metrics answered by any
worker counts all of them. Gauges say how: open sessions add up over live workers, the
suppression-list size (the same COUNT in each) is the live maximum.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["MULTIPROCESS_DIR_ENV", "Metrics"]

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

_DECISION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
_DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """Every metric the relay exports; others call these attributes directly."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.messages_total = Counter(
            "prospect_relay_messages_total", "Messages by final action", ["action"], registry=r
        )
        self.recipients_total = Counter(
            "prospect_relay_recipients_total",
            "Recipients by action and deciding rule",
            ["action", "rule"],
            registry=r,
        )
        self.rule_hits_total = Counter(
            "prospect_relay_rule_hits_total",
            "Recipients by action and each acting rule (a recipient two rules refused counts "
            "for both)",
            ["action", "rule"],
            registry=r,
        )
        self.recipients_would_total = Counter(
            "prospect_relay_recipients_would_total",
            "Monitor mode: recipients forwarded that enforce mode would have refused, by "
            "action and deciding rule",
            ["action", "rule"],
            registry=r,
        )
        self.smtp_replies_total = Counter(
            "prospect_relay_smtp_replies_total",
            "Replies to MAIL/RCPT/DATA by class",
            ["code_class"],
            registry=r,
        )
        self.upstream_errors_total = Counter(
            "prospect_relay_upstream_errors_total",
            "Upstream failures by kind (connect, timeout, pool_wait, disconnect, after_dot, "
            "protocol, refused, outbox)",
            ["kind"],
            registry=r,
        )
        self.decision_seconds = Histogram(
            "prospect_relay_decision_seconds",
            "Time spent deciding (compliance) per message",
            buckets=_DECISION_BUCKETS,
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "prospect_relay_delivery_seconds",
            "End of DATA to final reply, per message",
            buckets=_DELIVERY_BUCKETS,
            registry=r,
        )
        self.policy_reloads_total = Counter(
            "prospect_relay_policy_reloads_total", "Policy reloads", ["result"], registry=r
        )
        self.suppression_entries = Gauge(
            "prospect_relay_suppression_entries",
            "Entries in the suppression list",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.unsubscribes_total = Counter(
            "prospect_relay_unsubscribes_total", "Unsubscribes by origin", ["origin"], registry=r
        )
        self.smtp_sessions_open = Gauge(
            "prospect_relay_smtp_sessions_open",
            "Open SMTP client sessions",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.smtp_sessions_total = Counter(
            "prospect_relay_smtp_sessions_total", "SMTP client sessions admitted", registry=r
        )
        self.smtp_sessions_refused_total = Counter(
            "prospect_relay_smtp_sessions_refused_total",
            "SMTP connections refused with 421 by reason (full, outside_full, per_ip)",
            ["reason"],
            registry=r,
        )
        self.smtp_auth_failures_total = Counter(
            "prospect_relay_smtp_auth_failures_total", "Failed SMTP AUTH attempts", registry=r
        )
        self.feedback_total = Counter(
            "prospect_relay_feedback_total",
            "Bounces and complaints received, by kind (hard-bounce, soft-bounce, complaint), "
            "source (dsn, arf, ses, sendgrid, mailgun, postmark) and campaign (policy "
            "campaigns; others count as 'other')",
            ["kind", "source", "campaign"],
            registry=r,
        )
        self.webhook_deliveries_total = Counter(
            "prospect_relay_webhook_deliveries_total",
            "Outbound webhook attempts by endpoint and result (delivered, retry, failed)",
            ["endpoint", "result"],
            registry=r,
        )
        self.webhook_backlog = Gauge(
            "prospect_relay_webhook_backlog",
            "Webhook events waiting for delivery, per endpoint",
            ["endpoint"],
            registry=r,
            multiprocess_mode="livemax",  # the same COUNT in each worker
        )

    def render(self) -> bytes:
        """The text exposition format for GET /metrics."""
        directory = os.environ.get(MULTIPROCESS_DIR_ENV)
        if directory is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)
