"""Rules `consent-invalid`, `b2c-no-consent` and `b2b-no-consent`: the opt-in requirement."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Kind, Stage
from proxy.policy.context import ConsentStatus, RuleContext, SoftStatus
from proxy.policy.rules.base import Rule

__all__ = ["B2bNoConsent", "B2cNoConsent", "ConsentInvalid", "missing_consent_reason"]


def missing_consent_reason(ctx: RuleContext) -> str:
    """'<why no consent>; no soft opt-in: <why>' for the refusal text."""
    return f"{ctx.consent.reason}; no soft opt-in: {ctx.soft_optin.reason}"


class ConsentInvalid(Rule):
    """Informational: a defective consent counts as none; the opt-in rules then refuse."""

    __slots__ = ()
    name: ClassVar[str] = "consent-invalid"
    description: ClassVar[str] = (
        "consent recorded but pre-ticked, bundled with terms of use, without proof, without a "
        "date, for another controller of the policy, or collected indirectly (`source_kind` "
        "partner or broker, or a `consent_controller` outside the policy) without "
        "`partner_named = yes`"
    )
    outcome: ClassVar[str] = (
        "treated as no consent, the reason names the defect (CPCE L.34-5, GDPR art. 7(1), "
        "PERFORMECLIC)"
    )
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.consent.status is not ConsentStatus.INVALID:
            return None
        return self.hit(
            Action.FORWARD, f"consent treated as absent: {ctx.consent.reason}", ctx.consent.code
        )


class B2cNoConsent(Rule):
    __slots__ = ()
    name: ClassVar[str] = "b2c-no-consent"
    description: ClassVar[str] = "kind b2c, no valid consent, soft opt-in not satisfied"
    outcome: ClassVar[str] = "reject"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.kind is not Kind.B2C or ctx.consent.valid:
            return None
        if ctx.soft_optin.status is not SoftStatus.FAILED:
            return None
        return self.hit(
            Action.REJECT,
            f"consumer address without valid consent ({missing_consent_reason(ctx)})",
            ctx.soft_optin.code if ctx.consent.status is ConsentStatus.NONE else ctx.consent.code,
        )


class B2bNoConsent(Rule):
    __slots__ = ()
    name: ClassVar[str] = "b2b-no-consent"
    description: ClassVar[str] = (
        "kind b2b or generic in a country whose profile says opt-in for it, no valid consent,"
        " no soft opt-in"
    )
    outcome: ClassVar[str] = "reject"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.kind is Kind.B2C or not ctx.needs_opt_in or ctx.consent.valid:
            return None
        if ctx.soft_optin.status is not SoftStatus.FAILED:
            return None
        return self.hit(
            Action.REJECT,
            f"{ctx.country} requires consent for {ctx.kind.value} addresses "
            f"({missing_consent_reason(ctx)})",
            ctx.soft_optin.code if ctx.consent.status is ConsentStatus.NONE else ctx.consent.code,
        )
