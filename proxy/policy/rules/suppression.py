"""Rule `suppressed`: an objection on a list in scope beats any consent or customer status."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Stage, Suppression
from proxy.policy.context import RuleContext
from proxy.policy.countries import STRICT, canonical_country
from proxy.policy.rules.base import Rule

__all__ = ["Suppressed"]


class Suppressed(Rule):
    """Scopes: `global` and `controller:<id>` always (for transactional mail only the sending
    controller's own list); `national:<CC>` (AT ECG list, PT list) for recipients of that
    country unless they gave valid consent, since those registers bar only unsolicited mail.
    A recipient of unknown country (the STRICT profile) could live in any of them: every
    national list applies (fail closed)."""

    __slots__ = ()
    name: ClassVar[str] = "suppressed"
    description: ClassVar[str] = (
        "the address's hash, its domain or a parent domain (`acme.fr` covers `sales.acme.fr`) "
        "is on a suppression list in scope: global, the controller's, the national list of "
        "the recipient's country, or every national list when the country is unknown"
    )
    outcome: ClassVar[str] = (
        "reject, whatever consent or customer status says; a later import of the same address"
        " changes nothing"
    )
    stage: ClassVar[Stage] = Stage.RCPT
    commercial_only: ClassVar[bool] = False

    def check(self, ctx: RuleContext) -> Finding | None:
        for entry in ctx.recipient.suppressions:
            code = self._match(entry, ctx)
            if code is not None:
                what = "domain" if entry.domain_wide else "address"
                unknown = "; country unknown: every national list applies"
                return self.hit(
                    Action.REJECT,
                    f"{what} objected to receiving our messages "
                    f"(list {entry.scope}, {entry.origin.value})"
                    f"{unknown if code.endswith('unknown-country') else ''}",
                    code,
                )
        return None

    @staticmethod
    def _match(entry: Suppression, ctx: RuleContext) -> str | None:
        scope = entry.scope
        if scope == f"controller:{ctx.controller_id}":
            return "suppression.controller"
        if ctx.transactional:
            return None
        if scope == "global":
            return "suppression.global"
        kind, _, country = scope.partition(":")
        if kind != "national" or ctx.consent.valid:
            return None
        if canonical_country(country) == ctx.country:
            return "suppression.national"
        if ctx.country == STRICT:
            return "suppression.national-unknown-country"
        return None
