"""What a legal basis rested on, recorded with each audit record (`basis_detail`).

The "why am I receiving this?" page must show the basis the relay applied when it sent the
message, not one recomputed later from a register that may have changed since: the product
family of a soft opt-in, the job function and target functions of a B2B offer, the consent's
date and method. They are taken from the decision's facts, as a small JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from proxy.model import Basis

__all__ = ["DETAIL_KEYS", "basis_detail", "parse_detail"]

# Per basis, the decision facts worth keeping (names of RecipientDecision.facts keys).
DETAIL_KEYS: dict[Basis, tuple[str, ...]] = {
    Basis.CONSENT: ("consent_at", "consent_method"),
    Basis.SOFT_OPTIN: ("product",),
    Basis.B2B_RELEVANCE: ("job_function", "targets"),
}
_MAX_VALUE = 200


def basis_detail(basis: Basis, facts: Mapping[str, str]) -> str | None:
    """The JSON text for the audit record, or None when the basis has no detail to keep."""
    keys = DETAIL_KEYS.get(basis)
    if not keys:
        return None
    detail = {key: facts[key][:_MAX_VALUE] for key in keys if facts.get(key)}
    return json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None


def parse_detail(text: str | None) -> dict[str, str]:
    """Back from the audit record; anything unreadable is shown as no detail."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
