"""`prospect-relay webhooks list|test|replay`: the outbound webhook queue, from a shell."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Column

from proxy.cli.common import config_option, open_engine, run_with_settings
from proxy.cli.ops import _Command, _instant, since_help
from proxy.feedback.dispatch import send_test
from proxy.ops.report_format import iso_utc
from proxy.ops.tables import number, print_tables, table
from proxy.settings import Settings, WebhookEndpoint
from proxy.store.webhook_queue import EndpointBacklog, WebhookQueue

__all__ = ["COMMANDS"]


@click.group("webhooks")
def webhooks() -> None:
    """Outbound webhooks (Standard Webhooks): endpoints, test, replay."""


@webhooks.command("list", cls=_Command)
@config_option
def webhooks_list(config_file: Path | None) -> None:
    """Each endpoint with its event filter and its queue: pending, delivered, failed."""

    async def work(settings: Settings) -> list[tuple[str, ...]]:
        async with open_engine(settings) as engine:
            backlog = {entry.endpoint: entry for entry in await WebhookQueue(engine).backlog()}
        rows: list[tuple[str, ...]] = [
            (
                endpoint.name,
                endpoint.url,
                ",".join(endpoint.events) or "all",
                "address" if endpoint.include_address else "hash",
                *_queue_cells(backlog.pop(endpoint.name, None)),
            )
            for endpoint in settings.webhooks.endpoints
        ]
        # Removed from the settings, their rows remain.
        rows += [
            (name, "(not configured)", "", "", *_queue_cells(entry))
            for name, entry in sorted(backlog.items())
        ]
        return rows

    rows = run_with_settings(work, config_file)
    if not rows:
        click.echo("no webhook endpoints configured ([[webhooks.endpoints]])")
        return
    counts = ("pending", "delivered", "failed")
    columns: list[str | Column] = ["endpoint", "url", "events", "sends"]
    columns += [*map(number, counts), "oldest pending"]
    print_tables(table("Webhook endpoints", columns, rows))


def _queue_cells(entry: EndpointBacklog | None) -> tuple[str, str, str, str]:
    """pending, delivered, failed and the oldest pending event's time."""
    if entry is None:
        return ("0", "0", "0", "-")
    oldest = iso_utc(entry.oldest_pending) if entry.oldest_pending is not None else "-"
    return (f"{entry.pending:,}", f"{entry.delivered:,}", f"{entry.failed:,}", oldest)


def _endpoint(settings: Settings, name: str) -> WebhookEndpoint:
    for endpoint in settings.webhooks.endpoints:
        if endpoint.name == name:
            return endpoint
    known = ", ".join(e.name for e in settings.webhooks.endpoints) or "none"
    raise click.ClickException(f"no webhook endpoint named {name!r} (configured: {known})")


@webhooks.command("test", cls=_Command)
@click.argument("name")
@config_option
def webhooks_test(name: str, config_file: Path | None) -> None:
    """POST a signed `test` event to endpoint NAME now and show its answer (not queued)."""

    async def work(settings: Settings) -> str:
        endpoint = _endpoint(settings, name)
        return await send_test(endpoint, settings.webhooks.timeout)

    outcome = run_with_settings(work, config_file)
    click.echo(f"{name}: {outcome}")
    if not outcome.startswith("HTTP 2"):
        raise SystemExit(1)


@webhooks.command("replay", cls=_Command)
@click.option("--since", required=True, callback=_instant(end_of_day=False), help=since_help)
@click.option("--endpoint", default=None, help="Only this endpoint (default: every one).")
@config_option
def webhooks_replay(since: datetime, endpoint: str | None, config_file: Path | None) -> None:
    """Queue again every event since --since (same webhook-id: receivers deduplicate)."""

    async def work(settings: Settings) -> int:
        if endpoint is not None:
            _endpoint(settings, endpoint)
        async with open_engine(settings) as engine:
            return await WebhookQueue(engine).replay(since, datetime.now(UTC), endpoint)

    count = run_with_settings(work, config_file)
    click.echo(f"{count} deliveries queued again since {iso_utc(since)}")


COMMANDS: list[click.Command] = [webhooks]
