"""Rule `stale-prospect`: prospect data past its retention window, one re-permission aside."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["StaleProspect"]


class StaleProspect(Rule):
    __slots__ = ()
    name: ClassVar[str] = "stale-prospect"
    description: ClassVar[str] = (
        "prospect whose max(collected_at, last_interaction) is older than the retention window"
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
