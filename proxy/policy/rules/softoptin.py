"""Rules `soft-optin` (the basis), `customer-inactive` and `third-party-offer`."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Basis, Finding, Stage
from proxy.policy.context import RuleContext, SoftStatus
from proxy.policy.rules.base import Rule

__all__ = ["CustomerInactive", "SoftOptin", "ThirdPartyOffer"]


class SoftOptin(Rule):
    """Informational: records that the soft opt-in is the basis this message relies on."""

    __slots__ = ()
    name: ClassVar[str] = "soft-optin"
    description: ClassVar[str] = (
        "customer of this controller, direct collection in a sale, same product family, "
        "objection offered and not used, plus the country's extra"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.basis is not Basis.SOFT_OPTIN or ctx.campaign is None:
            return None
        return self.hit(
            Action.FORWARD,
            f"soft opt-in: existing customer, product family {ctx.campaign.product}",
            ctx.soft_optin.code,
        )


class CustomerInactive(Rule):
    __slots__ = ()
    name: ClassVar[str] = "customer-inactive"
    description: ClassVar[str] = (
        "soft opt-in would apply but the last purchase is older than the window"
    )
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if not ctx.needs_opt_in or ctx.consent.valid:
            return None
        if ctx.soft_optin.status is not SoftStatus.INACTIVE:
            return None
        return self.hit(
            Action.REJECT,
            f"no soft opt-in any more: {ctx.soft_optin.reason}",
            ctx.soft_optin.code,
        )


class ThirdPartyOffer(Rule):
    __slots__ = ()
    name: ClassVar[str] = "third-party-offer"
    description: ClassVar[str] = "partner offers in a message relying on soft opt-in"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.campaign is None or not ctx.campaign.partner_offers:
            return None
        if ctx.basis is not Basis.SOFT_OPTIN:
            return None
        return self.hit(
            Action.REJECT,
            "soft opt-in does not cover partner offers; consent is needed",
            "soft-optin.partner-offers",
        )
