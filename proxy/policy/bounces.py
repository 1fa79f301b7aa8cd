"""What a bounce or a complaint does to an address: the `[bounces]` policy section (pure).

A hard bounce (the address does not exist or is disabled: 5.1.x, 5.2.1 by default)
suppresses the address at once. Any other failure is soft (mailbox full, greylisting,
content blocks: the address itself may be fine) and suppresses only when `soft_limit` of
them arrived within `soft_window_days`. A complaint always suppresses, globally.
Rates shown by `report` are judged against the mailbox providers' thresholds.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["BounceKind", "Bounces", "classify_status", "should_suppress"]

_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_PREFIX = re.compile(r"5(\.\d{1,3}){0,2}\.?")


class BounceKind(StrEnum):
    HARD = "hard-bounce"
    SOFT = "soft-bounce"


class Bounces(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Status codes (RFC 3463) or prefixes ending in "." that mean "this address is dead".
    hard_statuses: tuple[str, ...] = ("5.1.", "5.2.1")
    soft_limit: int = Field(3, ge=1)
    soft_window_days: int = Field(14, ge=1)
    # Report thresholds, in percent of delivered copies (Gmail / Yahoo bulk-sender rules).
    complaint_rate_max: float = Field(0.3, gt=0)
    complaint_rate_target: float = Field(0.1, gt=0)
    bounce_rate_max: float = Field(2.0, gt=0)

    @field_validator("hard_statuses")
    @classmethod
    def _statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [code for code in value if not _PREFIX.fullmatch(code)]
        if bad:
            raise ValueError(f"not permanent status codes or prefixes (5.x.y, 5.x.): {bad}")
        return value


def classify_status(status: str, bounces: Bounces) -> BounceKind | None:
    """HARD or SOFT for a failure status; None for a success or an unreadable code."""
    if not _STATUS.fullmatch(status) or status.startswith("2."):
        return None
    if status.startswith("5.") and any(
        status == code or (code.endswith(".") and status.startswith(code))
        for code in bounces.hard_statuses
    ):
        return BounceKind.HARD
    return BounceKind.SOFT


def should_suppress(kind: BounceKind, soft_in_window: int, bounces: Bounces) -> bool:
    """`soft_in_window` counts this bounce too."""
    return kind is BounceKind.HARD or soft_in_window >= bounces.soft_limit
