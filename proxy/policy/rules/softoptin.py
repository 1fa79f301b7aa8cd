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
    basis_only: ClassVar[bool] = True
    description: ClassVar[str] = (
        "country allows it, address obtained from the recipient in a sale (`source_kind = "
        "direct`, customer of this controller), message about a product family the customer "
        "bought (`X-Prospect-Product` or campaign), objection offered at collection, not "
        "refused, no third-party offers in the message, plus the country's extras (IE 12 "
        "months, IT current customer, AT ECG list, DK same product family, PL never)"
    )
    outcome: ClassVar[str] = "valid basis"
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
        "soft opt-in would apply but the last purchase is older than the retention window (3 years)"
    )
    outcome: ClassVar[str] = "reject"
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
    description: ClassVar[str] = (
        "the message declares partner offers (`X-Prospect-Partner-Offers: yes`) and the basis"
        " is soft opt-in"
    )
    outcome: ClassVar[str] = "reject"
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
