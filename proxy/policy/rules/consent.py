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
        "consent recorded but pre-ticked, bundled with terms, without proof, for another "
        "controller, or collected by a partner that did not name this controller"
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
    description: ClassVar[str] = "consumer without valid consent and without soft opt-in"
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
        "business or generic address in a country that requires opt-in for it, without "
        "valid consent or soft opt-in"
    )
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
