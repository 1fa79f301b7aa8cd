"""Suppression scopes: `global`, `controller:<id>` (one sender or brand), `national:<CC>`."""

from __future__ import annotations

import re

__all__ = ["GLOBAL_SCOPE", "normalise_scope"]

GLOBAL_SCOPE = "global"
# A controller id is the policy's table key, compared exactly by the engine: keep its case.
_CONTROLLER = re.compile(r"controller:(\S{1,89})")  # the scope column holds 100
_NATIONAL = re.compile(r"national:([A-Za-z]{2})")


def normalise_scope(scope: str) -> str:
    """The canonical spelling of a scope; ValueError explains the accepted forms."""
    value = scope.strip()
    if value.lower() == GLOBAL_SCOPE:
        return GLOBAL_SCOPE
    if match := _CONTROLLER.fullmatch(value):
        return f"controller:{match.group(1)}"
    if match := _NATIONAL.fullmatch(value):
        return f"national:{match.group(1).upper()}"
    raise ValueError(
        f"bad scope {scope!r}: use 'global', 'controller:<id>' or 'national:<country code>'"
    )
