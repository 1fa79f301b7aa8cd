"""`serve`, `check-config` and `hash-password`: start the relay and check its settings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import socket
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from proxy.app import build_relay, event_loop_factory, require_current_schema
from proxy.cli.common import config_option
from proxy.errors import ConfigError, ConfigProblem
from proxy.logs import configure_logging
from proxy.policy.policy_file import load_policy
from proxy.secrets import load_or_create_secret
from proxy.settings import (
    DEFAULT_CONFIG_FILE,
    ENV_PREFIX,
    PolicySettings,
    Settings,
    load_settings,
)
from proxy.smtp.auth import hash_password
from proxy.supervisor import (
    Supervisor,
    bind_listeners,
    inherited_listeners,
    listener_addresses,
    notify_ready,
    watch_lifeline,
    worker_command,
)

__all__ = ["COMMANDS", "mask_url_password", "render_settings"]

log = logging.getLogger(__name__)


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def mask_url_password(value: str) -> str:
    """`postgresql+asyncpg://relay:pw@db/relay` -> `postgresql+asyncpg://relay:***@db/relay`."""
    if "://" not in value or "@" not in value:
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if password is None:
        return value
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_url_password(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def render_settings(settings: Settings) -> str:
    """The effective configuration as TOML, secrets shown as `**********` and passwords inside
    URLs (the database URL) as `***`."""
    lines: list[str] = []
    for section, values in settings.model_dump(mode="json").items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if value is None:
                lines.append(f"# {key} = (not set)")
            else:
                lines.append(f"{key} = {_toml_value(_masked(value))}")
        lines.append("")
    return "\n".join(lines)


def _policy_file_hint(config_file: Path | None) -> Path:
    """The policy file the settings name, read without validating them (for reporting its
    problems next to the settings' own)."""
    named = next(
        (v for k, v in os.environ.items() if k.upper() == f"{ENV_PREFIX}POLICY__FILE"), None
    )
    if named is None and config_file is not None:
        with contextlib.suppress(OSError, ValueError):
            policy = tomllib.loads(config_file.read_text()).get("policy", {})
            if isinstance(policy, dict) and isinstance(policy.get("file"), str):
                named = policy["file"]
    return Path(named) if named else PolicySettings().file


def _load(config_file: Path | None) -> tuple[Settings | None, list[ConfigProblem]]:
    """The settings (validated by `proxy.settings`) and the policy file they name, with every
    problem of both: with invalid settings the policy file is still checked, so one run
    reports everything."""
    if config_file is None and DEFAULT_CONFIG_FILE.is_file():
        config_file = DEFAULT_CONFIG_FILE
    settings: Settings | None = None
    problems: list[ConfigProblem] = []
    try:
        settings = load_settings(config_file)
        policy_file = settings.policy.file
    except ConfigError as exc:
        problems.extend(exc.problems)
        policy_file = _policy_file_hint(config_file)
    try:
        load_policy(policy_file)
    except ConfigError as exc:
        problems.extend(exc.problems)
    return settings, problems


def _fail(problems: list[ConfigProblem]) -> None:
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    raise SystemExit(2)


async def _serve(
    settings: Settings,
    listeners: dict[str, socket.socket],
    ready_fd: int | None,
    lifeline_fd: int | None,
) -> int:
    if lifeline_fd is not None:
        watch_lifeline(lifeline_fd)
    app = await build_relay(settings, listeners=listeners)

    def started() -> None:
        freeze_startup_heap()
        if ready_fd is not None:
            notify_ready(ready_fd)

    await app.serve_forever(started)
    return 0


def freeze_startup_heap() -> None:
    """Keep what startup built (modules, settings, the policy, SQLAlchemy's and pydantic's
    tables) out of the cyclic garbage collector's walks, once the relay is listening.

    A full collection otherwise walks that whole heap, a few hundred milliseconds of CPU
    each time, a share of every message's cost under load; frozen, it walks only what was
    allocated since. Objects freed by reference counting are freed as before.

    The youngest generation is collected every 10,000 net allocations instead of 700: a
    message leaves some cyclic garbage (session objects, futures), and fewer, larger
    collections cost less in all (bench: about 50 -> 25 us of collector time per message).
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_GENERATION_THRESHOLD, older, oldest)


_YOUNG_GENERATION_THRESHOLD = 10_000


async def _supervise(settings: Settings, config_file: Path | None, workers: int) -> int:
    await require_current_schema(settings)  # one clear refusal, not one per worker
    load_or_create_secret(settings.security)  # created once, before the workers read it
    listeners = bind_listeners(listener_addresses(settings))
    log.info(
        "supervisor: starting %d workers on SMTP %s:%d",
        workers,
        settings.smtp.host,
        listeners["smtp"].getsockname()[1],
    )
    return await Supervisor(workers, worker_command(config_file), listeners).run()


@click.command("serve")
@config_option
@click.option("--listen-fds", hidden=True, help="Worker of a supervisor: name=fd,... to serve.")
@click.option("--ready-fd", type=int, hidden=True, help="Worker: written once listening.")
@click.option("--lifeline-fd", type=int, hidden=True, help="Worker: end of file = supervisor gone.")
def serve(
    config_file: Path | None,
    listen_fds: str | None,
    ready_fd: int | None,
    lifeline_fd: int | None,
) -> None:
    """Start the SMTP relay (and its web endpoints) until SIGTERM/SIGINT; SIGHUP reloads.

    With `[runtime] workers` above 1 this process supervises that many worker processes
    sharing the listeners (proxy/supervisor.py).
    """
    settings, problems = _load(config_file)
    if problems or settings is None:
        _fail(problems)
        return
    logs = configure_logging(settings.log)
    try:
        workers = settings.runtime.worker_count()
        if listen_fds is None and workers > 1:
            code = asyncio.run(_supervise(settings, config_file, workers))
        else:
            listeners = inherited_listeners(listen_fds or "")
            loop_factory = event_loop_factory(settings.runtime.event_loop)
            with asyncio.Runner(loop_factory=loop_factory) as run:
                code = run.run(_serve(settings, listeners, ready_fd, lifeline_fd))
    except ConfigError as exc:
        _fail(exc.problems)
        return
    except OSError as exc:
        click.echo(f"error: cannot start: {exc.strerror or exc}", err=True)
        raise SystemExit(1) from None
    finally:
        logs.stop()  # the last lines (the shutdown) are written before the process exits
    raise SystemExit(code)


@click.command("check-config")
@config_option
def check_config(config_file: Path | None) -> None:
    """Validate the settings and print the effective configuration (secrets masked)."""
    settings, problems = _load(config_file)
    if problems or settings is None:
        _fail(problems)
        return
    click.echo(render_settings(settings), nl=False)
    click.echo("# configuration is valid", err=True)


@click.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def hash_password_command(password_stdin: bool) -> None:
    """Print a password hash for `[smtp.users]` (scrypt; see proxy/smtp/auth.py)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        click.echo("error: empty password", err=True)
        raise SystemExit(2)
    click.echo(hash_password(password))


COMMANDS: list[click.Command] = [serve, check_config, hash_password_command]
