"""Parse the `--since` / `--until` values of `report` and `audit export` into UTC instants."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from proxy.errors import PeriodError

__all__ = ["iso_utc", "parse_instant"]

_DURATION = re.compile(r"(\d+)\s*([mhdw])\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def parse_instant(value: str, now: datetime, *, end_of_day: bool = False) -> datetime:
    """`7d`, `12h`, `30m`, `2w` (that long before `now`), a date or an ISO 8601 date-time.

    A bare date means midnight UTC at the start of that day, or, with `end_of_day` (used for
    the exclusive `--until`), at the start of the next day: `--since 2025-03-01 --until
    2025-03-31` then covers the whole of March. A date-time without a zone is taken as UTC.
    """
    text = value.strip().lower()
    found = _DURATION.match(text)
    if found is not None:
        amount = int(found.group(1))
        try:
            return now - timedelta(**{_UNITS[found.group(2)]: amount})
        except OverflowError:
            raise PeriodError(f"{value!r} reaches too far back") from None
    if _DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise PeriodError(f"{value!r} is not a valid date: {exc}") from None
        start = datetime.combine(day, time(), UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PeriodError(
            f"{value!r} is neither a duration (30m, 12h, 7d, 2w) nor a date "
            "(YYYY-MM-DD or an ISO 8601 date-time)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime, timespec: str = "seconds") -> str:
    """ISO 8601 in UTC with a `Z` (`2025-03-01T09:30:00Z`); `timespec` as datetime.isoformat."""
    text = moment.astimezone(UTC).isoformat(timespec=timespec)
    return text.removesuffix("+00:00") + "Z"
