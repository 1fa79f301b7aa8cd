"""Rules `objected` and `operational-address`: people who said no, and mailboxes that run mail."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, ConsentState, Finding, Record, Stage
from proxy.policy.classify import base_local_part
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["Objected", "OperationalAddress"]


class Objected(Rule):
    """GDPR art. 21(3): after an objection the data is no longer used for prospecting. The
    objection is also recorded as a global suppression (`Record.OBJECTION`), whatever other
    list (national, a sister controller's, a domain) already matches, so it survives an
    erasure, a re-import and the lifting of those other entries."""

    __slots__ = ()
    name: ClassVar[str] = "objected"
    description: ClassVar[str] = (
        "consent withdrawn, or the customer refused marketing at collection"
    )
    outcome: ClassVar[str] = (
        "reject, and record a global suppression (origin objection) unless the address is on "
        "the global list already, whatever other list matches (GDPR art. 21(3))"
    )
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        contact = ctx.contact
        if contact is None:
            return None
        record = None if _globally_suppressed(ctx) else Record.OBJECTION
        if contact.consent is ConsentState.WITHDRAWN:
            return self.hit(
                Action.REJECT,
                "the recipient withdrew consent",
                "objection.withdrawn",
                record=record,
            )
        if contact.marketing_refused:
            return self.hit(
                Action.REJECT,
                "the recipient refused marketing at collection",
                "objection.refused",
                record=record,
            )
        return None


def _globally_suppressed(ctx: RuleContext) -> bool:
    """The address itself (not only its domain) is on the global list already."""
    return any(s.scope == "global" and not s.domain_wide for s in ctx.recipient.suppressions)


class OperationalAddress(Rule):
    __slots__ = ()
    name: ClassVar[str] = "operational-address"
    description: ClassVar[str] = "local part is an operational mailbox"
    outcome: ClassVar[str] = "reject"
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
