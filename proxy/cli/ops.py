"""Operations commands: `report`, `audit export` and `purge`. Parse, call a service, print."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.cli.common import config_option, open_engine, run_with_settings
from proxy.errors import PeriodError
from proxy.ops.export import write_audit_csv, write_feedback_csv
from proxy.ops.periods import parse_instant
from proxy.ops.report_format import iso_utc, render_csv, render_json, report_tables
from proxy.ops.retention import PurgeCounts, PurgeCutoffs, cutoffs, run_purge
from proxy.ops.tables import print_tables
from proxy.policy.bounces import Bounces
from proxy.policy.policy_file import Retention, load_policy
from proxy.settings import Settings
from proxy.store.reports import ReportWindow, build_report

__all__ = ["COMMANDS"]

T = TypeVar("T")


class _UsageLine(click.UsageError):
    """A bad argument shown as one `error:` line (exit status 2), without the usage banner."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _Command(click.Command):
    """Turn every parse error of the command (bad value, unknown option) into one line."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except _UsageLine:
            raise
        except click.UsageError as exc:
            raise _UsageLine(exc.format_message(), ctx) from None


def _instant(*, end_of_day: bool) -> Callable[[click.Context, click.Parameter, str | None], Any]:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_instant(
                value, ctx.meta.setdefault("now", datetime.now(UTC)), end_of_day=end_of_day
            )
        except PeriodError as exc:
            raise _UsageLine(f"--{param.name}: {exc}", ctx) from None

    return convert


since_help = "Start: a duration back from now (30m, 12h, 7d, 2w), a date or an ISO 8601 time (UTC)."
until_help = "End, exclusive; a bare date includes that whole day (UTC). Default: now."


def _check_period(ctx: click.Context, since: datetime, until: datetime | None) -> None:
    if until is not None and until <= since:
        raise _UsageLine(
            f"--until ({iso_utc(until)}) must be after --since ({iso_utc(since)})", ctx
        )


# -- report --------------------------------------------------------------------------------


@click.command("report", cls=_Command)
@click.option(
    "--since", default="7d", show_default=True, callback=_instant(end_of_day=False), help=since_help
)
@click.option("--until", default=None, callback=_instant(end_of_day=True), help=until_help)
@click.option("--campaign", default=None, help="Only this campaign's decisions.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people; json or csv for scripts (see proxy/ops/report_format.py).",
)
@config_option
@click.pass_context
def report(
    ctx: click.Context,
    since: datetime,
    until: datetime | None,
    campaign: str | None,
    output: str,
    config_file: Path | None,
) -> None:
    """Counts of decisions by action, rule, campaign and country, top rejection reasons and
    unsubscribes, over a period (default: the last 7 days)."""
    end = until if until is not None else ctx.meta["now"]
    _check_period(ctx, since, end)
    window = ReportWindow(since=since, until=end, campaign=campaign)

    async def work(settings: Settings) -> None:
        async with open_engine(settings) as engine:
            result = await build_report(engine, window)
        thresholds = _thresholds(settings)
        if output == "json":
            click.echo(render_json(result, thresholds), nl=False)
        elif output == "csv":
            render_csv(result, sys.stdout)
        else:
            print_tables(*report_tables(result, thresholds))

    run_with_settings(work, config_file)


def _thresholds(settings: Settings) -> Bounces:
    """The policy's `[bounces]` thresholds; the defaults when the policy file is absent
    (the report reads only the database otherwise)."""
    if not settings.policy.file.is_file():
        return Bounces()
    return load_policy(settings.policy.file).bounces


# -- audit export --------------------------------------------------------------------------

# write_audit_csv, write_feedback_csv: (engine, since, until, out) -> rows written.
CsvWriter = Callable[[AsyncEngine, datetime, datetime | None, TextIO], Awaitable[int]]


@click.group("audit")
def audit() -> None:
    """The audit trail: one record per recipient decision (hashes, no clear-text address)."""


@audit.command("export", cls=_Command)
@click.option("--since", required=True, callback=_instant(end_of_day=False), help=since_help)
@click.option("--until", default=None, callback=_instant(end_of_day=True), help=until_help)
@config_option
@click.pass_context
def audit_export(
    ctx: click.Context, since: datetime, until: datetime | None, config_file: Path | None
) -> None:
    """Write the period's audit records to standard output as CSV, oldest first.

    Columns: created_at (ISO 8601 UTC), queue_id, campaign, sender_hash, recipient_hash,
    country, action, rule_ids (comma-separated), basis, instance. Streamed: memory use does
    not grow with the period.
    """
    _check_period(ctx, since, until)
    rows = _export_csv(write_audit_csv, since, until, config_file)
    click.echo(f"exported {rows:,} audit records", err=True)


@audit.command("feedback", cls=_Command)
@click.option("--since", required=True, callback=_instant(end_of_day=False), help=since_help)
@click.option("--until", default=None, callback=_instant(end_of_day=True), help=until_help)
@config_option
@click.pass_context
def audit_feedback(
    ctx: click.Context, since: datetime, until: datetime | None, config_file: Path | None
) -> None:
    """Write the bounces and complaints received in the period as CSV, oldest first.

    Columns: created_at, address_hash, kind (hard-bounce, soft-bounce, complaint), status
    (RFC 3463 code or feedback type), source (dsn, arf, ses, sendgrid, mailgun, postmark),
    campaign, suppressed (yes/no), detail (the diagnostic).
    """
    _check_period(ctx, since, until)
    rows = _export_csv(write_feedback_csv, since, until, config_file)
    click.echo(f"exported {rows:,} bounces and complaints", err=True)


def _export_csv(
    write: CsvWriter, since: datetime, until: datetime | None, config_file: Path | None
) -> int:
    """Stream one export to standard output; the number of rows written."""

    async def work(settings: Settings) -> int:
        async with open_engine(settings) as engine:
            return await write(engine, since, until, sys.stdout)

    try:
        rows = run_with_settings(work, config_file)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    return rows


# -- purge ---------------------------------------------------------------------------------


def _purge_lines(
    settings: Settings,
    retention: Retention,
    limits: PurgeCutoffs,
    counts: PurgeCounts,
    dry_run: bool,
) -> Sequence[str]:
    verb = "would remove" if dry_run else "removed"
    purchase_before = min(limits.prospect_before, limits.customer_before)
    return (
        f"audit records: {verb} {counts.audit_records:,} created before "
        f"{iso_utc(limits.audit_before)} (audit.retention_days = {settings.audit.retention_days})",
        f"contacts: {verb} {counts.contacts:,} with no collection, interaction or consent since "
        f"{limits.prospect_before.isoformat()} (retention.prospect_months = "
        f"{retention.prospect_months}) and no purchase since {purchase_before.isoformat()} "
        f"(retention.customer_months = {retention.customer_months}); "
        "their suppression entries are kept",
    )


@click.command("purge", cls=_Command)
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@config_option
def purge(dry_run: bool, config_file: Path | None) -> None:
    """Remove audit records past audit.retention_days and contacts past the policy's retention
    windows (suppression entries stay). Safe to run from cron or a systemd timer."""

    async def work(settings: Settings) -> Sequence[str]:
        retention = load_policy(settings.policy.file).retention
        limits = cutoffs(settings.audit, retention, datetime.now(UTC))
        async with open_engine(settings) as engine:
            counts = await run_purge(engine, limits, dry_run=dry_run)
        return _purge_lines(settings, retention, limits, counts, dry_run)

    lines = run_with_settings(work, config_file)
    if dry_run:
        click.echo("dry run: nothing was removed")
    for line in lines:
        click.echo(line)


COMMANDS: list[click.Command] = [report, audit, purge]
