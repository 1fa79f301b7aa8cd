"""Rule `stale-prospect`: prospect data past its retention window, one re-permission aside."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from proxy.model import Action, Finding, RecipientDecision, Record, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["StaleProspect", "repermission_used"]


class StaleProspect(Rule):
    __slots__ = ()
    name: ClassVar[str] = "stale-prospect"
    description: ClassVar[str] = (
        "prospect (not a customer) whose last contact, max(collected_at, last_interaction, "
        "last_purchase, consent_at of a standing consent the person gave), is older than the "
        "retention window"
    )
    outcome: ClassVar[str] = (
        "reject, except one re-permission message (`X-Prospect-Repermission: yes`) per "
        "contact, recorded"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        retention = ctx.retention
        if not retention.stale:
            return None
        if retention.repermission:
            return self.hit(
                Action.FORWARD,
                f"{retention.reason}: the one re-permission message is allowed",
                "retention.repermission",
                record=Record.REPERMISSION,
            )
        reason, code = retention.reason, "retention.stale"
        if ctx.campaign is not None and ctx.campaign.repermission:
            if not ctx.profile.repermission_allowed:
                reason += f"; in {ctx.country} asking for consent by email is itself advertising"
                code = "retention.repermission-forbidden"
            elif ctx.recipient.repermission_at is not None:
                sent = ctx.recipient.repermission_at.date().isoformat()
                reason += f"; the re-permission message was already sent on {sent}"
                code = "retention.repermission-used"
        return self.hit(Action.REJECT, reason, code)


def repermission_used(decision: RecipientDecision) -> RecipientDecision:
    """The decision when the one re-permission message could not be claimed (another message,
    maybe on another relay instance, took it first): a `stale-prospect` refusal."""
    finding = StaleProspect().hit(
        Action.REJECT,
        "retention window passed and the one re-permission message was already sent",
        "retention.repermission-used",
    )
    return replace(
        decision,
        action=Action.REJECT,
        findings=(*decision.findings, finding),
        rewrite=None,
        record_first_message=False,
        record_repermission=False,
    )
