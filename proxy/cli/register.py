"""Register commands: db, contacts, consent, suppress, forget. Parse, call the store, print."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from proxy.cli.common import config_option, open_store, run_with_settings
from proxy.errors import RowError
from proxy.model import ConsentMethod, ConsentState, Contact, Suppression, SuppressionOrigin
from proxy.secrets import load_or_create_secret
from proxy.settings import Settings
from proxy.store import normalise_scope, schema_status, upgrade
from proxy.store.contacts_csv import check_email
from proxy.store.importer import ImportSummary, import_contacts
from proxy.store.suppression_csv import EXPORT_HEADER, read_suppression_csv

__all__ = ["COMMANDS"]

T = TypeVar("T")
_IMPORT_BATCH = 50_000


def _address(value: str) -> str:
    try:
        return check_email(value)
    except RowError as exc:
        raise click.BadParameter(str(exc).removeprefix("email: ")) from None


def _address_arg(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else _address(value)


def _scope_opt(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_scope(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


scope_option = click.option(
    "--scope",
    default="global",
    callback=_scope_opt,
    show_default=True,
    help="'global', 'controller:<id>' (one sender or brand) or 'national:<CC>'.",
)


def _describe(entry: Suppression) -> str:
    what = "domain" if entry.domain_wide else "address"
    return (
        f"{what} suppressed, scope {entry.scope}, origin {entry.origin.value}, "
        f"since {entry.created_at:%Y-%m-%d}"
    )


# -- db ------------------------------------------------------------------------------------


@click.group("db")
def db() -> None:
    """Database schema (Alembic migrations shipped in the package)."""


@db.command("upgrade")
@config_option
def db_upgrade(config_file: Path | None) -> None:
    """Create or migrate the schema to this version (safe to run again)."""

    async def work(settings: Settings) -> None:
        before = await schema_status(settings.database)
        after = await upgrade(settings.database, load_or_create_secret(settings.security))
        if before.current == after.current:
            click.echo(f"database schema is up to date (revision {after.current})")
        else:
            click.echo(
                f"database schema upgraded from {before.current or '(empty)'} "
                f"to revision {after.current}"
            )
        async with open_store(settings) as store:
            fixed = await store.renormalise_addresses()
        if fixed:
            click.echo(f"{fixed} register address(es) moved to their normal spelling")

    run_with_settings(work, config_file)


@db.command("status")
@config_option
def db_status(config_file: Path | None) -> None:
    """Show the schema revision; exit status 1 when `db upgrade` is needed."""

    async def work(settings: Settings) -> bool:
        status = await schema_status(settings.database)
        click.echo(f"database revision: {status.current or '(empty)'}")
        click.echo(f"code revision:     {status.head}")
        click.echo("up to date" if status.is_current else status.advice())
        return status.is_current

    if not run_with_settings(work, config_file):
        sys.exit(1)


# -- contacts ------------------------------------------------------------------------------


@click.group("contacts")
def contacts() -> None:
    """The contacts register (clear-text addresses live only here)."""


@contextmanager
def _progress(handle: TextIO, console: Console) -> Iterator[Callable[[], None] | None]:
    """A progress bar over the file's bytes, on a terminal only."""
    if not console.is_terminal:
        yield None
        return
    size = max(os.fstat(handle.fileno()).st_size, 1)
    columns = (TextColumn("importing"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("import", total=size)
        yield lambda: bar.update(task, completed=handle.buffer.tell())


@contacts.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@config_option
def contacts_import(file: Path, config_file: Path | None) -> None:
    """Import the contacts CSV FILE (header row; only `email` is required).

    Bad rows are reported with their line number and skipped; good rows are imported.
    Exit status 1 when any row was rejected. Importing never lifts a suppression.
    """
    console = Console(stderr=True, highlight=False)

    async def work(settings: Settings) -> ImportSummary:
        async with open_store(settings) as store:

            def on_error(line: int, reason: str) -> None:
                console.print(f"{file}:{line}: {reason}", markup=False, soft_wrap=True)

            with (
                file.open(newline="", encoding="utf-8-sig") as lines,
                _progress(lines, console) as on_progress,
            ):
                return await import_contacts(
                    store, lines, on_error=on_error, on_progress=on_progress
                )

    try:
        summary = run_with_settings(work, config_file)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text ({exc.reason})") from None
    click.echo(
        f"{summary.rows_read:,} rows read: {summary.inserted:,} inserted, "
        f"{summary.updated:,} updated, {summary.rejected:,} rejected; "
        f"{summary.suppressions_created:,} suppressions created"
        + (
            f"; {summary.duplicates:,} repeated addresses (the last row won)"
            if summary.duplicates
            else ""
        )
    )
    if summary.rejected:
        sys.exit(1)


_CONTACT_LABELS = {
    "kind": "kind",
    "country": "country",
    "source": "data source",
    "source_kind": "source kind",
    "collected_at": "collected",
    "consent": "consent",
    "consent_at": "consent date",
    "consent_method": "consent method",
    "consent_proof": "consent proof",
    "consent_controller": "consent controller",
    "partner_named": "partner named",
    "customer_of": "customer of",
    "last_purchase": "last purchase",
    "objection_offered": "objection offered",
    "marketing_refused": "marketing refused",
    "job_function": "job function",
    "last_interaction": "last interaction",
    "contract_until": "contract until",
}


def _show_value(value: Any) -> str | None:
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "; ".join(value)
    return str(value)


def _field(label: str, value: object) -> str:
    """One `label: value` line of `contacts show`, values aligned."""
    return f"  {label + ':':<20}{value}"


def _contact_lines(contact: Contact) -> Iterator[str]:
    for name, label in _CONTACT_LABELS.items():
        shown = _show_value(getattr(contact, name))
        if shown is not None:
            yield _field(label, shown)


@contacts.command("show")
@click.argument("address", callback=_address_arg)
@config_option
def contacts_show(address: str, config_file: Path | None) -> None:
    """Show ADDRESS's register entry, send records and suppression status."""

    async def work(settings: Settings) -> None:
        async with open_store(settings) as store:
            facts = (await store.load_recipient_facts([address]))[address]
        click.echo(address)
        if facts.contact is None:
            click.echo("  not in the register")
        else:
            for line in _contact_lines(facts.contact):
                click.echo(line)
        if facts.first_message_at is not None:
            click.echo(_field("first message", f"{facts.first_message_at:%Y-%m-%d %H:%M} UTC"))
        if facts.repermission_at is not None:
            click.echo(_field("re-permission sent", f"{facts.repermission_at:%Y-%m-%d %H:%M} UTC"))
        if not facts.suppressions:
            click.echo(_field("suppressed", "no"))
        for entry in facts.suppressions:
            click.echo(_field("suppressed", _describe(entry)))

    run_with_settings(work, config_file)


# -- consent -------------------------------------------------------------------------------


@click.group("consent")
def consent() -> None:
    """Record a consent given or withdrawn."""


at_option = click.option(
    "--at",
    "at",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date of the consent or withdrawal (YYYY-MM-DD; default today).",
)


@consent.command("grant")
@click.argument("address", callback=_address_arg)
@click.option(
    "--method",
    type=click.Choice([method.value for method in ConsentMethod]),
    required=True,
    help="How the consent was collected.",
)
@click.option("--proof", default=None, help="Where the proof is kept (form id, log reference).")
@click.option(
    "--controller",
    type=click.STRING,
    default=None,
    callback=lambda _ctx, _param, value: _bounded(value, "--controller"),
    help="The controller the consent was given to.",
)
@at_option
@config_option
def consent_grant(
    address: str,
    method: str,
    proof: str | None,
    controller: str | None,
    at: Any,
    config_file: Path | None,
) -> None:
    """Record that ADDRESS consented (creates the contact if needed).

    A consent never lifts a suppression: use `suppress remove` for that, deliberately.
    """

    async def work(settings: Settings) -> list[Suppression]:
        async with open_store(settings) as store:
            await store.set_consent(
                address,
                ConsentState.GRANTED,
                method=ConsentMethod(method),
                proof=proof,
                controller=controller,
                at=_day(at),
            )
            return await store.is_suppressed(address)

    still = run_with_settings(work, config_file)
    click.echo(f"consent recorded for {address}")
    for entry in still:
        click.echo(f"note: still {_describe(entry)} (lift it with `suppress remove`)")


@consent.command("withdraw")
@click.argument("address", callback=_address_arg)
@at_option
@config_option
def consent_withdraw(address: str, at: Any, config_file: Path | None) -> None:
    """Record that ADDRESS withdrew consent; the address is suppressed (origin objection)."""

    async def work(settings: Settings) -> tuple[Contact | None, bool]:
        async with open_store(settings) as store:
            return await store.set_consent(address, ConsentState.WITHDRAWN, at=_day(at))

    contact, created = run_with_settings(work, config_file)
    click.echo(
        f"consent withdrawn for {address}"
        + ("" if contact is not None else " (not in the register)")
        + ("; suppression added" if created else "; already suppressed")
    )


def _bounded(value: str | None, name: str, limit: int = 200) -> str | None:
    if value is not None and len(value) > limit:
        raise click.BadParameter(f"longer than {limit} characters", param_hint=name)
    return value


def _day(value: Any) -> date | None:
    return None if value is None else value.date()


# -- suppress ------------------------------------------------------------------------------


@click.group("suppress")
def suppress() -> None:
    """The suppression list (keyed hashes only; no clear-text address is stored)."""


def _target(address: str | None, domain: str | None, hashed: str | None) -> dict[str, str]:
    given = {
        name: value
        for name, value in (("address", address), ("domain", domain), ("sha256", hashed))
        if value
    }
    if len(given) != 1:
        raise click.UsageError("give exactly one of ADDRESS, --domain or --sha256")
    if "domain" in given:
        domain_value = given["domain"].strip().lstrip("@")
        if "@" in domain_value or "." not in domain_value:
            raise click.BadParameter(f"not a domain: {given['domain']!r}", param_hint="--domain")
        given["domain"] = domain_value
    return given


target_options = [
    click.argument("address", required=False, callback=_address_arg),
    click.option("--domain", default=None, help="The whole domain (a company that objected)."),
    click.option("--sha256", "hashed", default=None, help="A plain SHA-256 hex of an address."),
]


def _with_targets(function: Callable[..., None]) -> Callable[..., None]:
    for decorator in reversed(target_options):
        function = decorator(function)
    return function


@suppress.command("add")
@_with_targets
@scope_option
@click.option(
    "--origin",
    type=click.Choice([origin.value for origin in SuppressionOrigin]),
    default=SuppressionOrigin.MANUAL.value,
    show_default=True,
)
@config_option
def suppress_add(
    address: str | None,
    domain: str | None,
    hashed: str | None,
    scope: str,
    origin: str,
    config_file: Path | None,
) -> None:
    """Suppress ADDRESS (or --domain / --sha256) in a scope."""
    target = _target(address, domain, hashed)

    async def work(settings: Settings) -> bool:
        async with open_store(settings) as store:
            return await store.add_suppression(
                **target, scope=scope, origin=SuppressionOrigin(origin)
            )

    try:
        created = run_with_settings(work, config_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    what = next(iter(target.values()))
    click.echo(f"{what}: {'suppressed' if created else 'already suppressed'} ({scope})")


@suppress.command("remove")
@_with_targets
@scope_option
@click.option("--all-scopes", is_flag=True, help="Remove it from every scope.")
@config_option
def suppress_remove(
    address: str | None,
    domain: str | None,
    hashed: str | None,
    scope: str,
    all_scopes: bool,
    config_file: Path | None,
) -> None:
    """Lift the suppression of ADDRESS (or --domain / --sha256); exit 1 if none was found."""
    target = _target(address, domain, hashed)

    async def work(settings: Settings) -> int:
        async with open_store(settings) as store:
            return await store.remove_suppression(**target, scope=None if all_scopes else scope)

    try:
        removed = run_with_settings(work, config_file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    what = next(iter(target.values()))
    if not removed:
        raise click.ClickException(f"{what}: no suppression found")
    click.echo(f"{what}: {removed} suppression(s) removed")


@suppress.command("check")
@click.argument("address", required=False, callback=_address_arg)
@click.option("--domain", default=None, help="Check a domain-wide suppression.")
@click.option("--scope", default=None, callback=_scope_opt, help="Only this scope.")
@config_option
def suppress_check(
    address: str | None, domain: str | None, scope: str | None, config_file: Path | None
) -> None:
    """Is ADDRESS (or --domain) suppressed? Exit status 0 if it is, 1 if not."""
    target = _target(address, domain, None)

    async def work(settings: Settings) -> list[Suppression]:
        async with open_store(settings) as store:
            if address is not None:
                return await store.is_suppressed(address, scope)
            return await store.is_domain_suppressed(target["domain"], scope)

    found = run_with_settings(work, config_file)
    what = next(iter(target.values()))
    if not found:
        click.echo(f"{what}: not suppressed")
        sys.exit(1)
    for entry in found:
        click.echo(f"{what}: {_describe(entry)}")


@suppress.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@scope_option
@click.option(
    "--origin",
    type=click.Choice([origin.value for origin in SuppressionOrigin]),
    default=SuppressionOrigin.IMPORT.value,
    show_default=True,
)
@config_option
def suppress_import(file: Path, scope: str, origin: str, config_file: Path | None) -> None:
    """Import a list of addresses or SHA-256 hashes (another tool's opt-outs) from FILE.

    One value per row, header optional (a column named email/address/sha256/hash is used);
    a file written by `suppress export` is imported with its own scopes and dates.
    Exit status 1 when any row was rejected.
    """
    rejected = 0

    def on_error(line: int, reason: str) -> None:
        nonlocal rejected
        rejected += 1
        click.echo(f"{file}:{line}: {reason}", err=True)

    async def work(settings: Settings) -> tuple[int, int]:
        read = created = 0
        async with open_store(settings) as store:
            with file.open(newline="", encoding="utf-8-sig") as lines:
                batch = []
                entries = read_suppression_csv(
                    lines,
                    hash_address=store.address_hash,
                    key_sha256=store.sha256_key,
                    scope=scope,
                    origin=SuppressionOrigin(origin),
                    on_error=on_error,
                )
                for entry in entries:
                    read += 1
                    batch.append(entry)
                    if len(batch) >= _IMPORT_BATCH:
                        created += await store.import_suppressions(batch)
                        batch.clear()
                created += await store.import_suppressions(batch)
        return read, created

    try:
        read, created = run_with_settings(work, config_file)
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text ({exc.reason})") from None
    click.echo(
        f"{read + rejected:,} rows read: {created:,} suppressions added, "
        f"{read - created:,} already listed, {rejected:,} rejected"
    )
    if rejected:
        sys.exit(1)


@suppress.command("export")
@click.argument(
    "file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-"
)
@config_option
def suppress_export(file: Path, config_file: Path | None) -> None:
    """Write the list (hash, kind, scope, origin, date) as CSV to FILE (default stdout, or -)."""
    to_stdout = str(file) == "-"

    async def work(settings: Settings) -> int:
        count = 0
        async with open_store(settings) as store:
            # click.open_file maps "-" to stdout (and does not close it), any other name to a
            # new file: one code path for both.
            with click.open_file(str(file), "w", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(EXPORT_HEADER)
                async for entry in store.export_suppressions():
                    writer.writerow(
                        (
                            entry.hash,
                            entry.kind,
                            entry.scope,
                            entry.origin.value,
                            entry.created_at.isoformat(),
                        )
                    )
                    count += 1
        return count

    count = run_with_settings(work, config_file)
    if not to_stdout:
        click.echo(f"{count:,} suppressions written to {file}")


# -- forget --------------------------------------------------------------------------------


@click.command("forget")
@click.argument("address", callback=_address_arg)
@config_option
def forget(address: str, config_file: Path | None) -> None:
    """Erase ADDRESS's data from the register; keep (or add) its suppression hash."""

    async def work(settings: Settings) -> Any:
        async with open_store(settings) as store:
            return await store.forget(address)

    result = run_with_settings(work, config_file)
    click.echo(
        f"{address}: "
        + ("register entry erased" if result.contact_deleted else "not in the register")
    )
    if result.sends_deleted:
        click.echo("send records erased")
    click.echo(
        "suppression added (origin erasure)"
        if result.suppression_created
        else "suppression kept (it was already suppressed)"
    )


COMMANDS: list[click.Command] = [db, contacts, consent, suppress, forget]
