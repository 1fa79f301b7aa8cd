"""Rules `sender-not-allowed` and `deceptive-subject`: the sender's identity must be honest."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Stage
from proxy.policy.context import RuleContext
from proxy.policy.derive import owning_controller
from proxy.policy.rules.base import Rule

__all__ = ["DeceptiveSubject", "SenderNotAllowed"]


class SenderNotAllowed(Rule):
    """The From domain (or a parent domain) must be one of the controller's domains."""

    __slots__ = ()
    name: ClassVar[str] = "sender-not-allowed"
    description: ClassVar[str] = (
        "the From domain is not one of the controller's domains in the policy"
    )
    outcome: ClassVar[str] = "reject (identity must not be concealed)"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.message is None:
            return None
        owner = owning_controller(ctx.message.from_address, ctx.policy)
        if owner == ctx.controller_id:
            return None
        if not ctx.message.from_address:
            reason = "the message has no From address"
        else:
            reason = f"the From domain is not a domain of {ctx.controller.legal_name}"
        return self.hit(Action.REJECT, reason, "sender.domain")


class DeceptiveSubject(Rule):
    __slots__ = ()
    name: ClassVar[str] = "deceptive-subject"
    description: ClassVar[str] = (
        "subject matches the policy's deceptive patterns (fake `RE:`/`TR:`/`Fwd:` on a first "
        'contact, "unpaid invoice", ...)'
    )
    outcome: ClassVar[str] = "reject"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.message is None:
            return None
        subject = ctx.message.subject
        compiled = ctx.policy.compiled
        for pattern in compiled.deceptive:
            if pattern.search(subject):
                return self.hit(
                    Action.REJECT,
                    "the subject is misleading about the message",
                    "subject.deceptive",
                )
        if ctx.first_contact:
            for pattern in compiled.first_contact_deceptive:
                if pattern.search(subject):
                    return self.hit(
                        Action.REJECT,
                        "the subject pretends to answer or forward an earlier exchange",
                        "subject.fake-reply",
                    )
        return None
