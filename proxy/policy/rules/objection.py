"""Rules `objected` and `operational-address`: people who said no, and mailboxes that run mail."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, ConsentState, Finding, Stage
from proxy.policy.classify import base_local_part
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["Objected", "OperationalAddress"]


class Objected(Rule):
    __slots__ = ()
    name: ClassVar[str] = "objected"
    description: ClassVar[str] = "consent withdrawn, or marketing refused at collection"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        contact = ctx.contact
        if contact is None:
            return None
        if contact.consent is ConsentState.WITHDRAWN:
            return self.hit(Action.REJECT, "the recipient withdrew consent", "objection.withdrawn")
        if contact.marketing_refused:
            return self.hit(
                Action.REJECT, "the recipient refused marketing at collection", "objection.refused"
            )
        return None


class OperationalAddress(Rule):
    __slots__ = ()
    name: ClassVar[str] = "operational-address"
    description: ClassVar[str] = "the local part is an operational mailbox (abuse, postmaster...)"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        local = base_local_part(ctx.address)
        if local in ctx.policy.compiled.operational_local_parts:
            return self.hit(
                Action.REJECT,
                f"{local}@ is an operational mailbox, never marketed to",
                "address.operational",
            )
        return None
