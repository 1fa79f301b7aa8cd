"""The contacts CSV import and the suppression-list reader, against a real database."""

from __future__ import annotations

import asyncio
import io
from datetime import date

import pytest

from proxy.errors import CsvFormatError
from proxy.model import ConsentMethod, ConsentState, Kind, SourceKind, SuppressionOrigin
from proxy.store import Store, address_hash, keyed_sha256, sha256_hash
from proxy.store.importer import ImportSummary, import_contacts
from proxy.store.suppression_csv import read_suppression_csv
from tests.databases import HASH_KEY

HEADER = (
    "email,kind,country,source,source_kind,collected_at,consent,consent_at,consent_method,"
    "consent_proof,consent_controller,partner_named,customer_of,last_purchase,"
    "objection_offered,marketing_refused,job_function,last_interaction\n"
)


async def run_import(
    store: Store, text: str, batch_size: int = 10_000
) -> tuple[ImportSummary, list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    summary = await import_contacts(
        store,
        io.StringIO(text, newline=""),
        on_error=lambda line, reason: errors.append((line, reason)),
        batch_size=batch_size,
    )
    return summary, errors


async def test_every_column_is_stored(store: Store) -> None:
    row = (
        "Ana@Example.FR,b2c,fr,Salon 2024,event,2024-03-01,granted,2024-03-02T10:00:00Z,"
        "double-opt-in,log-7,acme,yes,shoes; socks ,2025-01-31,yes,no,buyer,2025-02-01\n"
    )
    summary, errors = await run_import(store, HEADER + row)
    assert errors == []
    assert (summary.rows_read, summary.inserted, summary.rejected) == (1, 1, 0)
    contact = await store.get_contact("ana@example.fr")
    assert contact is not None
    assert (contact.kind, contact.country, contact.source_kind) == (
        Kind.B2C,
        "FR",
        SourceKind.EVENT,
    )
    assert (contact.consent, contact.consent_method) == (
        ConsentState.GRANTED,
        ConsentMethod.DOUBLE_OPT_IN,
    )
    assert contact.consent_at == date(2024, 3, 2)
    assert contact.customer_of == ("shoes", "socks")
    assert (contact.partner_named, contact.objection_offered, contact.marketing_refused) == (
        True,
        True,
        False,
    )
    assert (contact.job_function, contact.last_interaction) == ("buyer", date(2025, 2, 1))


async def test_bad_rows_are_reported_by_line_and_good_rows_kept(store: Store) -> None:
    text = (
        "email,kind,country,collected_at,consent,partner_named\n"
        "good1@x.fr,b2b,FR,2024-01-01,none,no\n"
        "not-an-address,b2b,FR,,,\n"
        "bad-kind@x.fr,person,FR,,,\n"
        "\n"
        "bad-date@x.fr,b2b,FR,2024-02-30,,\n"
        '"multi\nline@x.fr",b2b,FR,,,\n'
        "bad-country@x.fr,b2b,France,,,\n"
        "bad-flag@x.fr,b2b,FR,,,maybe\n"
        "bad-consent@x.fr,b2b,FR,,given,\n"
        "short@x.fr,b2b\n"
        "good2@x.fr,,,,,\n"
    )
    summary, errors = await run_import(store, text, batch_size=2)
    lines = [line for line, _ in errors]
    assert lines == [3, 4, 6, 7, 9, 10, 11, 12]
    reasons = dict(errors)
    assert "email" in reasons[3] and "not-an-address" in reasons[3]
    assert "kind" in reasons[4] and "b2b|b2c" not in reasons[4] and "person" in reasons[4]
    assert "collected_at" in reasons[6] and "2024-02-30" in reasons[6]
    assert "email" in reasons[7]
    assert "country" in reasons[9]
    assert "partner_named" in reasons[10]
    assert "consent" in reasons[11] and "given" in reasons[11]
    assert "expected 6 fields, found 2" in reasons[12]
    assert (summary.rows_read, summary.inserted, summary.rejected) == (10, 2, 8)
    assert await store.get_contact("good2@x.fr") is not None


async def test_text_longer_than_its_column_is_a_bad_row(store: Store) -> None:
    summary, errors = await run_import(
        store, f"email,job_function\nlong@x.fr,{'x' * 201}\nok@x.fr,{'x' * 200}\n"
    )
    assert errors == [(2, "job_function: longer than 200 characters")]
    assert summary.inserted == 1


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("email,kind,colour\n", "unknown column 'colour'"),
        ("kind,country\n", "'email' is missing"),
        ("email,Email\n", "'email' appears more than once"),
        ("", "the first row must be the header"),
    ],
)
async def test_a_bad_header_stops_before_writing(store: Store, header: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        await run_import(store, header + "a@x.fr,b2b,FR\n")
    assert await store.get_contact("a@x.fr") is None


async def test_an_empty_file_is_an_error(store: Store) -> None:
    with pytest.raises(CsvFormatError, match="empty"):
        await run_import(store, "")


async def test_reimport_updates_only_its_columns_and_never_lifts_suppressions(
    store: Store,
) -> None:
    await run_import(
        store, HEADER.replace("\n", "") + "\n" + "p@x.fr,b2c,FR,Fair,event" + "," * 13 + "\n"
    )
    summary, _ = await run_import(
        store, "email,consent,marketing_refused\np@x.fr,withdrawn,no\nq@x.fr,none,yes\n"
    )
    assert (summary.inserted, summary.updated, summary.suppressions_created) == (1, 1, 2)
    contact = await store.get_contact("p@x.fr")
    assert contact is not None and contact.source == "Fair"  # untouched column kept
    assert contact.consent is ConsentState.WITHDRAWN
    summary, _ = await run_import(store, "email,consent,consent_method\nP@X.fr,granted,checkbox\n")
    assert summary.suppressions_created == 0
    (entry,) = await store.is_suppressed("p@x.fr")
    assert entry.origin is SuppressionOrigin.OBJECTION
    assert len(await store.is_suppressed("q@x.fr")) == 1


async def test_duplicate_addresses_in_one_file_keep_the_last_row(store: Store) -> None:
    summary, _ = await run_import(store, "email,country\nd@x.fr,FR\nD@x.fr,DE\n")
    assert (summary.inserted, summary.updated, summary.duplicates) == (1, 0, 1)
    contact = await store.get_contact("d@x.fr")
    assert contact is not None and contact.country == "DE"


def test_suppression_reader_takes_addresses_hashes_and_reports_the_rest() -> None:
    plain = sha256_hash("x@y.fr")
    text = f"Email,name\nA@B.fr,Ann\n{plain.upper()},\nnot an address,\n{'ab' * 16},\n\n"
    errors: list[tuple[int, str]] = []
    entries = list(
        read_suppression_csv(
            io.StringIO(text, newline=""),
            hash_address=lambda email: address_hash(HASH_KEY, email),
            key_sha256=lambda hexdigest: keyed_sha256(HASH_KEY, hexdigest),
            scope="controller:acme",
            origin=SuppressionOrigin.IMPORT,
            on_error=lambda line, reason: errors.append((line, reason)),
        )
    )
    assert [(e.kind, e.scope) for e in entries] == [
        ("address", "controller:acme"),
        ("sha256", "controller:acme"),
    ]
    assert entries[1].hash == keyed_sha256(HASH_KEY, plain)  # never stored unkeyed
    assert entries[1].hash != plain
    assert [line for line, _ in errors] == [4, 5]
    assert "MD5" in errors[1][1]


def test_suppression_reader_without_header_uses_the_first_row() -> None:
    entries = list(
        read_suppression_csv(
            io.StringIO("a@b.fr\nc@d.fr\n", newline=""),
            hash_address=lambda email: address_hash(HASH_KEY, email),
            key_sha256=lambda hexdigest: keyed_sha256(HASH_KEY, hexdigest),
            scope="global",
            origin=SuppressionOrigin.IMPORT,
            on_error=lambda line, reason: pytest.fail(f"{line}: {reason}"),
        )
    )
    assert len(entries) == 2


async def test_two_concurrent_imports_of_overlapping_files(store: Store) -> None:
    def text(start: int) -> str:
        rows = "".join(
            f"p{n}@x.fr,b2b,{'yes' if n % 7 == 0 else 'no'}\n" for n in range(start, start + 2000)
        )
        return "email,kind,marketing_refused\n" + rows

    (first, first_errors), (second, second_errors) = await asyncio.gather(
        run_import(store, text(0), batch_size=300), run_import(store, text(1000), batch_size=300)
    )
    assert first_errors == second_errors == []
    assert first.inserted + second.inserted == 3000
    assert first.updated + second.updated == 1000
    refused = len([n for n in range(3000) if n % 7 == 0])
    assert first.suppressions_created + second.suppressions_created == refused
    assert await store.suppression_count() == refused
