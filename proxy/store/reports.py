"""Aggregate queries over the audit trail and the suppression list for `prospect-relay report`.

Everything is counted by the database (GROUP BY over the indexed `created_at` range, or the
`(campaign, created_at)` index with `--campaign`); only the groups come back, never the rows.
Per-rule counts: `rule_ids` is a comma-separated text column, and splitting strings in SQL
is not portable between SQLite and PostgreSQL, so the database groups by the whole
`rule_ids` value (a handful of distinct rule combinations) and each combination's count is
credited to every rule it names here.

One convention, shared with /metrics: `rule_ids` holds the rules that acted (a refused
recipient's refusing rules, never rewrite rules), deciding rule first. "By rule" credits a
recipient to every acting rule (`prospect_relay_rule_hits_total`); the top rejections count
each refused recipient once, under its deciding rule (`prospect_relay_recipients_total`).
Monitor mode records what enforce mode would have done: `would` and `top_would_reject`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from proxy.model import Action
from proxy.store.guard import store_errors
from proxy.store.rights import RightsRequest, request_from_row, requests_statement
from proxy.store.tables import audit_records, feedback_events, suppressions

__all__ = [
    "TOP_REJECTIONS",
    "Breakdown",
    "FeedbackRate",
    "Report",
    "ReportWindow",
    "build_report",
]

TOP_REJECTIONS = 10

_ByKey = dict[str | None, Counter[str]]  # rule / campaign / country -> action -> recipients


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """Records with since <= created_at < until, optionally of one campaign."""

    since: datetime
    until: datetime
    campaign: str | None = None


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Recipients of one rule, campaign or country, per action."""

    key: str | None  # None: records without a campaign / country
    actions: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.actions.values())


@dataclass(frozen=True, slots=True)
class FeedbackRate:
    """Bounces and complaints of one campaign against its delivered recipients."""

    campaign: str | None
    delivered: int  # recipients forwarded or rewritten in the window
    hard_bounces: int
    soft_bounces: int
    complaints: int

    def _percent(self, count: int) -> float:
        return 100.0 * count / self.delivered if self.delivered else 0.0

    @property
    def bounce_rate(self) -> float:
        return self._percent(self.hard_bounces + self.soft_bounces)

    @property
    def complaint_rate(self) -> float:
        return self._percent(self.complaints)


@dataclass(frozen=True, slots=True)
class Report:
    window: ReportWindow
    messages: int  # distinct (queue id, instance) pairs
    recipients: int  # audit records: one per recipient decision
    by_action: Mapping[str, int]  # every Action present, zero when absent
    by_rule: tuple[Breakdown, ...]  # most frequent first
    by_campaign: tuple[Breakdown, ...]
    by_country: tuple[Breakdown, ...]
    top_rejections: tuple[tuple[str, int], ...]  # (deciding rule, rejected recipients), <= 10
    unsubscribes: Mapping[str, int]  # suppression entries added in the window, by origin
    # Data subjects' requests: every open one (with its due date), and those fulfilled in
    # the window (the until bound is not applied: an open request is owed now).
    requests: tuple[RightsRequest, ...] = ()
    feedback: tuple[FeedbackRate, ...] = ()  # campaigns with deliveries or feedback
    would: Mapping[str, int] = field(default_factory=dict)  # monitor mode: would-be actions
    top_would_reject: tuple[tuple[str, int], ...] = ()  # (deciding rule, recipients), <= 10


def _window_filter(window: ReportWindow) -> ColumnElement[bool]:
    conditions = [
        audit_records.c.created_at >= window.since,
        audit_records.c.created_at < window.until,
    ]
    if window.campaign is not None:
        conditions.append(audit_records.c.campaign == window.campaign)
    return and_(*conditions)


def _ranked(counts: _ByKey) -> tuple[Breakdown, ...]:
    """Most recipients first; ties by key so the output is stable ("none" last)."""
    items = [Breakdown(key, dict(sorted(actions.items()))) for key, actions in counts.items()]
    items.sort(key=lambda item: (-item.total, item.key is None, item.key or ""))
    return tuple(items)


@dataclass(slots=True)
class _Groups:
    by_action: Counter[str]
    by_rule: _ByKey = field(default_factory=dict)
    by_campaign: _ByKey = field(default_factory=dict)
    by_country: _ByKey = field(default_factory=dict)
    deciding: _ByKey = field(default_factory=dict)  # deciding rule -> action -> recipients
    would: Counter[str] = field(default_factory=Counter)
    would_deciding: Counter[str] = field(default_factory=Counter)  # would-reject rules


async def _groups(connection: AsyncConnection, window: ReportWindow) -> _Groups:
    """One scan of the window, grouped by every dimension the report shows."""
    count = func.count().label("n")
    columns = (
        audit_records.c.action,
        audit_records.c.rule_ids,
        audit_records.c.campaign,
        audit_records.c.country,
        audit_records.c.would_action,
        audit_records.c.would_rule_ids,
    )
    statement = select(*columns, count).where(_window_filter(window)).group_by(*columns)
    groups = _Groups(Counter({action.value: 0 for action in Action}))
    rows = await connection.execute(statement)
    for action, rule_ids, campaign, country, would, would_rules, n in rows:
        groups.by_action[action] += n
        groups.by_campaign.setdefault(campaign, Counter())[action] += n
        groups.by_country.setdefault(country, Counter())[action] += n
        rules = [part for part in rule_ids.split(",") if part]
        for rule in dict.fromkeys(rules):
            groups.by_rule.setdefault(rule, Counter())[action] += n
        if rules:
            groups.deciding.setdefault(rules[0], Counter())[action] += n
        if would:
            groups.would[would] += n
            first = (would_rules or "").split(",")[0]
            if would == Action.REJECT.value and first:
                groups.would_deciding[first] += n
    return groups


def _top(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    ranked = sorted(((key, n) for key, n in counts.items() if n > 0), key=lambda p: (-p[1], p[0]))
    return tuple(ranked[:TOP_REJECTIONS])


async def _messages(connection: AsyncConnection, window: ReportWindow) -> int:
    distinct = (
        select(audit_records.c.queue_id, audit_records.c.instance)
        .where(_window_filter(window))
        .distinct()
        .subquery()
    )
    return int(await connection.scalar(select(func.count()).select_from(distinct)) or 0)


async def _unsubscribes(connection: AsyncConnection, window: ReportWindow) -> dict[str, int]:
    """Suppression entries added in the window, by origin (all campaigns: an entry has none)."""
    statement = (
        select(suppressions.c.origin, func.count())
        .where(
            suppressions.c.created_at >= window.since,
            suppressions.c.created_at < window.until,
        )
        .group_by(suppressions.c.origin)
        .order_by(suppressions.c.origin)
    )
    return {origin: int(n) for origin, n in await connection.execute(statement)}


async def _feedback(connection: AsyncConnection, window: ReportWindow) -> _ByKey:
    """Bounces and complaints received in the window, by campaign and kind."""
    conditions = [
        feedback_events.c.created_at >= window.since,
        feedback_events.c.created_at < window.until,
    ]
    if window.campaign is not None:
        conditions.append(feedback_events.c.campaign == window.campaign)
    statement = (
        select(feedback_events.c.campaign, feedback_events.c.kind, func.count())
        .where(and_(*conditions))
        .group_by(feedback_events.c.campaign, feedback_events.c.kind)
    )
    counts: _ByKey = {}
    for campaign, kind, n in await connection.execute(statement):
        counts.setdefault(campaign, Counter())[kind] += int(n)
    return counts


def _rates(by_campaign: _ByKey, feedback: _ByKey) -> tuple[FeedbackRate, ...]:
    delivered_actions = (Action.FORWARD.value, Action.REWRITE.value)
    rates = [
        FeedbackRate(
            campaign=campaign,
            delivered=sum(by_campaign.get(campaign, Counter())[a] for a in delivered_actions),
            hard_bounces=feedback.get(campaign, Counter())["hard-bounce"],
            soft_bounces=feedback.get(campaign, Counter())["soft-bounce"],
            complaints=feedback.get(campaign, Counter())["complaint"],
        )
        for campaign in {*by_campaign, *feedback}
    ]
    rates.sort(
        key=lambda r: (-r.complaint_rate, -r.bounce_rate, r.campaign is None, r.campaign or "")
    )
    return tuple(rates)


async def build_report(engine: AsyncEngine, window: ReportWindow) -> Report:
    """Count the window's decisions; every query reads one snapshot of the database."""
    if window.until <= window.since:
        raise ValueError("the end of the period must be after its start")
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with store_errors("building the report"):
        async with engine.connect() as connection:
            connection = await connection.execution_options(**options)
            async with connection.begin():
                groups = await _groups(connection, window)
                messages = await _messages(connection, window)
                unsubscribes = await _unsubscribes(connection, window)
                requests = await connection.execute(requests_statement(since=window.since))
                rights = tuple(request_from_row(row) for row in requests)
                feedback = await _feedback(connection, window)
    rejected = {
        rule: actions.get(Action.REJECT.value, 0)
        for rule, actions in groups.deciding.items()
        if rule
    }
    return Report(
        window=window,
        messages=messages,
        recipients=sum(groups.by_action.values()),
        by_action=dict(groups.by_action),
        by_rule=_ranked(groups.by_rule),
        by_campaign=_ranked(groups.by_campaign),
        by_country=_ranked(groups.by_country),
        top_rejections=_top(rejected),
        unsubscribes=unsubscribes,
        requests=rights,
        feedback=_rates(groups.by_campaign, feedback),
        would=dict(sorted(groups.would.items())),
        top_would_reject=_top(groups.would_deciding),
    )
