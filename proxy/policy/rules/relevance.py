"""Rule `b2b-not-relevant`: without consent, a business offer must concern the person's job."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Basis, Finding, Kind, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["B2bNotRelevant"]


class B2bNotRelevant(Rule):
    """NESTOR (CNIL 2020): a lunch-delivery offer mailed to every employee is not relevant."""

    __slots__ = ()
    name: ClassVar[str] = "b2b-not-relevant"
    description: ClassVar[str] = (
        "kind b2b in an opt-out country, no consent, and the campaign's target functions "
        "(`X-Prospect-Targets` or campaign) do not include the contact's `job_function` (or "
        "either is missing)"
    )
    outcome: ClassVar[str] = "reject (NESTOR: a lunch-delivery offer to office staff)"
    stage: ClassVar[Stage] = Stage.DATA

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.kind is not Kind.B2B or ctx.needs_opt_in or ctx.campaign is None:
            return None
        if ctx.basis is not Basis.NONE:
            return None
        job = (ctx.contact.job_function or "").strip() if ctx.contact is not None else ""
        targets = ctx.campaign.targets
        if not targets:
            reason, code = "the campaign declares no target job functions", "b2b.no-targets"
        elif not job:
            reason, code = "the contact's job function is not recorded", "b2b.no-job-function"
        else:
            reason = f"offer targets {', '.join(targets)}; the contact works in {job}"
            code = "b2b.not-relevant"
        return self.hit(Action.REJECT, f"offer not related to the person's job: {reason}", code)
