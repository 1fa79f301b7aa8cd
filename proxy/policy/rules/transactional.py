"""Rule `not-commercial`: mail from a transactional sender or client is forwarded untouched."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["NotCommercial"]


class NotCommercial(Rule):
    __slots__ = ()
    name: ClassVar[str] = "not-commercial"
    description: ClassVar[str] = "the sender/client is marked transactional in the policy"
    outcome: ClassVar[str] = (
        "forward untouched (still logged; suppression of its own list still applies)"
    )
    stage: ClassVar[Stage] = Stage.RCPT
    commercial_only: ClassVar[bool] = False

    def check(self, ctx: RuleContext) -> Finding | None:
        if not ctx.transactional:
            return None
        return self.hit(
            Action.FORWARD,
            "transactional sender: forwarded untouched",
            "transactional.sender",
        )
