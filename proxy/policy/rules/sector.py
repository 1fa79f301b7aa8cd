"""Rule `sector-ban`: consumers may not be prospected for some sectors (FR since 2025-07-01)."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Kind, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["SectorBan"]


class SectorBan(Rule):
    """An ongoing contract is read as: customer of this controller within the customer window."""

    __slots__ = ()
    name: ClassVar[str] = "sector-ban"
    description: ClassVar[str] = (
        "FR consumer and the campaign category is a banned sector, no ongoing contract"
    )
    outcome: ClassVar[str] = "reject"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        since = ctx.profile.sector_ban_since
        if since is None or ctx.today < since or ctx.kind is not Kind.B2C:
            return None
        category = ctx.campaign.category if ctx.campaign is not None else None
        if category is None or category not in ctx.policy.compiled.banned_sectors_fr:
            return None
        if ctx.retention.is_customer:
            return None
        return self.hit(
            Action.REJECT,
            f"prospecting consumers for {category} is banned in {ctx.country} "
            f"since {since.isoformat()}",
            "sector.banned",
        )
