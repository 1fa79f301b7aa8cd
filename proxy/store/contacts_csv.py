"""The contacts CSV contract of DESIGN.md: header checks and per-cell validation."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from proxy.errors import CsvFormatError, RowError
from proxy.model import ConsentMethod, ConsentState, Kind, SourceKind
from proxy.store.contact_rows import CONTACT_COLUMNS
from proxy.store.hashing import normalise_address

__all__ = [
    "check_email",
    "parse_header",
    "parse_row",
    "parsers",
]


# Dot-atom or quoted local part; an ASCII (punycode) domain with at least two labels.
_EMAIL = re.compile(
    r'(?:"[^"\r\n]+"|[^\s@"(),:;<>\[\]\\]+)'
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}"
)
_COUNTRY = re.compile(r"[A-Za-z]{2}")


def check_email(value: str) -> str:
    """The normalised address, or RowError saying why it is not a mailbox address."""
    lowered = value.lower()
    if '"' not in value and value.isascii() and len(value) <= 320 and _EMAIL.fullmatch(lowered):
        # The common case: trimmed, unquoted ASCII, where lower case is the normal form. A
        # quoted local part takes the slow path: `"anne.marie"@x` is `anne.marie@x`.
        return lowered
    if not value.strip():
        raise RowError("email: empty")
    email = normalise_address(value)
    if len(email) > 320 or not _EMAIL.fullmatch(email):
        raise RowError(f"email: not a valid address: {value.strip()!r}")
    return email


def _text(value: str) -> str | None:
    return value.strip() or None


def _bounded(column: str, limit: int) -> Callable[[str], Any]:
    """Text that must fit its column (PostgreSQL refuses longer values)."""

    def parse(value: str) -> str | None:
        value = value.strip()
        if len(value) > limit:
            raise RowError(f"{column}: longer than {limit} characters")
        return value or None

    return parse


def _enum(column: str, allowed: Sequence[str]) -> Callable[[str], Any]:
    exact: dict[str, str | None] = {"": None, **{choice: choice for choice in allowed}}
    listed = "|".join(allowed)

    def parse(value: str) -> str | None:
        try:
            return exact[value]  # the common, clean spelling: one dict lookup
        except KeyError:
            pass
        cleaned = value.strip().lower()
        if cleaned in exact:
            return exact[cleaned]
        raise RowError(f"{column}: {value.strip()!r} is not one of {listed}")

    return parse


def _date(column: str) -> Callable[[str], Any]:
    def parse(value: str) -> date | None:
        if len(value) == 10:
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        value = value.strip()
        if not value:
            return None
        try:
            if len(value) > 10:  # a date-time: keep its date
                return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            return date.fromisoformat(value)
        except ValueError:
            raise RowError(
                f"{column}: {value!r} is not an ISO 8601 date (e.g. 2024-03-31)"
            ) from None

    return parse


def _flag(column: str) -> Callable[[str], Any]:
    exact: dict[str, bool | None] = {"": None}
    exact |= {word: True for word in ("yes", "y", "true", "1")}
    exact |= {word: False for word in ("no", "n", "false", "0")}

    def parse(value: str) -> bool | None:
        try:
            return exact[value]
        except KeyError:
            pass
        cleaned = value.strip().lower()
        if cleaned in exact:
            return exact[cleaned]
        raise RowError(f"{column}: {value.strip()!r} is not yes or no")

    return parse


def _country(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not _COUNTRY.fullmatch(value):
        raise RowError(f"country: {value!r} is not an ISO 3166 alpha-2 code (e.g. FR)")
    return value.upper()


def _families(value: str) -> str | None:
    if not value:
        return None
    families = [part.strip() for part in value.split(";")]
    return ";".join(part for part in families if part) or None


_consent_enum = _enum("consent", [state.value for state in ConsentState])
_refused_flag = _flag("marketing_refused")


def _consent(value: str) -> str:
    return _consent_enum(value) or ConsentState.NONE.value


def _refused(value: str) -> bool:
    return bool(_refused_flag(value))


_PARSERS: dict[str, Callable[[str], Any]] = {
    "email": check_email,
    "kind": _enum("kind", [kind.value for kind in Kind]),
    "country": _country,
    "source": _text,
    "source_kind": _enum("source_kind", [kind.value for kind in SourceKind]),
    "collected_at": _date("collected_at"),
    "consent": _consent,
    "consent_at": _date("consent_at"),
    "consent_method": _enum("consent_method", [method.value for method in ConsentMethod]),
    "consent_proof": _text,
    "consent_controller": _bounded("consent_controller", 200),
    "partner_named": _flag("partner_named"),
    "customer_of": _families,
    "last_purchase": _date("last_purchase"),
    "objection_offered": _flag("objection_offered"),
    "marketing_refused": _refused,
    "job_function": _bounded("job_function", 200),
    "last_interaction": _date("last_interaction"),
    "contract_until": _date("contract_until"),
}
assert set(_PARSERS) == set(CONTACT_COLUMNS)


def parse_header(header: Sequence[str]) -> list[str]:
    """Column names of the header row; CsvFormatError names any unknown or repeated one."""
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in _PARSERS]
    if unknown and "@" in unknown[0]:
        raise CsvFormatError(
            f"line 1: unknown column {unknown[0]!r}: the first row must be the header "
            f"(e.g. email,kind,country)"
        )
    if unknown:
        raise CsvFormatError(
            f"line 1: unknown column {unknown[0]!r} (known columns: {', '.join(CONTACT_COLUMNS)})"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise CsvFormatError(f"line 1: column {repeated[0]!r} appears more than once")
    if "email" not in columns:
        raise CsvFormatError("line 1: the required column 'email' is missing")
    return columns


def parsers(columns: Sequence[str]) -> tuple[Callable[[str], Any], ...]:
    """The cell parsers for these columns (header order), for parse_row."""
    return tuple(_PARSERS[name] for name in columns)


def parse_row(
    columns: Sequence[str], cell_parsers: Sequence[Callable[[str], Any]], values: Sequence[str]
) -> dict[str, Any]:
    """Validated column values of one record; RowError on the first bad cell."""
    if len(values) != len(columns):
        raise RowError(f"expected {len(columns)} fields, found {len(values)}")
    return dict(
        zip(
            columns,
            [parse(value) for parse, value in zip(cell_parsers, values, strict=True)],
            strict=True,
        )
    )
