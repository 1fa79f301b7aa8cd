"""What every command shares: the --config option, running a coroutine with the settings,
and opening the database on an up-to-date schema. Errors become lines, never tracebacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.errors import ConfigError, RelayError
from proxy.feedback.dispatch import event_routes
from proxy.secrets import load_or_create_secret
from proxy.settings import Settings, load_settings
from proxy.store import Store, create_engine, schema_status

__all__ = ["config_option", "fail_config", "open_engine", "open_store", "run_with_settings"]

T = TypeVar("T")

config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Settings file (default: config/relay.toml when present, else built-in defaults).",
)


def fail_config(exc: ConfigError) -> NoReturn:
    """One `error: file: key: problem` line per problem, exit status 2."""
    for problem in exc.problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(2)


def run_with_settings(
    work: Callable[[Settings], Coroutine[Any, Any, T]], config_file: Path | None
) -> T:
    """Load the settings and run `work`: bad configuration exits 2, other expected
    failures (database down, unreadable file) print one line and exit 1."""
    try:
        settings = load_settings(config_file)
        return asyncio.run(work(settings))
    except ConfigError as exc:
        fail_config(exc)
    except RelayError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a file named on the command line, or a closed standard output
        reason = exc.strerror or str(exc)
        message = f"{exc.filename}: {reason}" if exc.filename else reason
        raise click.ClickException(message) from None


@asynccontextmanager
async def open_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on an up-to-date schema (else: say which command fixes it)."""
    status = await schema_status(settings.database)
    if not status.is_current:
        raise click.ClickException(status.advice())
    engine = create_engine(settings.database)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """A Store with the relay's hash key, on an up-to-date schema."""
    async with open_engine(settings) as engine:
        key = load_or_create_secret(settings.security)
        yield Store(
            engine,
            key,
            timeout=settings.database.timeout,
            routes=event_routes(settings.webhooks),
        )
