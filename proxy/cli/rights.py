"""`prospect-relay requests`: data subjects' requests from the unsubscribe page, and their state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from proxy.cli.common import config_option, open_engine, run_with_settings
from proxy.ops.requests_format import request_document, requests_table
from proxy.ops.tables import print_tables
from proxy.settings import Settings
from proxy.store.rights import RightsRegister, RightsRequest

__all__ = ["COMMANDS"]

_STATES = {"open": False, "fulfilled": True, "all": None}


@click.command("requests")
@click.option(
    "--state",
    type=click.Choice(list(_STATES)),
    default="all",
    show_default=True,
    help="open (not yet fulfilled, overdue included), fulfilled, or all.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people; json (a list of objects) for scripts.",
)
@config_option
def requests(state: str, output: str, config_file: Path | None) -> None:
    """Copies (GDPR art. 15) and erasures (art. 17) asked for on the unsubscribe page: when
    received, when due (one month later), when fulfilled and what was done."""

    async def work(settings: Settings) -> Sequence[RightsRequest]:
        async with open_engine(settings) as engine:
            register = RightsRegister(engine, timeout=settings.database.timeout)
            return await register.requests(fulfilled=_STATES[state])

    found = run_with_settings(work, config_file)
    today = datetime.now(UTC).date()
    if output == "json":
        documents = [request_document(r, today) for r in found]
        click.echo(json.dumps(documents, indent=2, ensure_ascii=False))
        return
    print_tables(requests_table(found, today, f"Data subject requests ({state})"))


COMMANDS = (requests,)
