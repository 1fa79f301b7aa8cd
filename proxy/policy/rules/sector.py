"""Rule `sector-ban`: consumers may not be prospected for some sectors (FR since 2025-07-01)."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Kind, Stage
from proxy.policy.context import RuleContext
from proxy.policy.derive import relationship_controller
from proxy.policy.rules.base import Rule

__all__ = ["SectorBan"]


class SectorBan(Rule):
    """Loi n° 2025-594 of 30 June 2025: no prospecting of consumers for energy-renovation or
    home-adaptation works, except within a contract in progress. A past purchase is not a
    contract in progress; only the register's `contract_until` (a contract with this
    controller running until that day) is. Without it the ban applies (fail closed)."""

    __slots__ = ()
    name: ClassVar[str] = "sector-ban"
    description: ClassVar[str] = (
        "consumer in a country with a sector ban (FR since 2025-07-01), campaign category in a "
        "banned sector (energy renovation, home adaptation), and no contract in progress with "
        "this controller (`contract_until` on or after today)"
    )
    outcome: ClassVar[str] = (
        "reject (loi n° 2025-594); a contract in progress is noted as the exception applied"
    )
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        since = ctx.profile.sector_ban_since
        if since is None or ctx.today < since or ctx.kind is not Kind.B2C:
            return None
        category = ctx.campaign.category if ctx.campaign is not None else None
        if category is None or category not in ctx.policy.compiled.banned_sectors_fr:
            return None
        banned = (
            f"prospecting consumers for {category} is banned in {ctx.country} "
            f"since {since.isoformat()}"
        )
        contact = ctx.contact
        until = contact.contract_until if contact is not None else None
        if contact is None or until is None:
            why = "no contract in progress recorded (contract_until)"
        elif relationship_controller(contact, ctx.policy) != ctx.controller_id:
            why = "the contract in progress is with another controller"
        elif until < ctx.today:
            why = f"the contract ended on {until.isoformat()}"
        else:
            return self.hit(
                Action.FORWARD,
                f"{banned}, but a contract is in progress until {until.isoformat()}",
                "sector.contract-in-progress",
            )
        return self.hit(Action.REJECT, f"{banned}: {why}", "sector.banned")
