"""Monitor mode: decide and record as in enforce mode, but forward (untouched) what enforce
mode would refuse. The relay and `explain` both apply it here."""

from __future__ import annotations

from dataclasses import replace

from proxy.model import Action, PolicyMode, RecipientDecision

__all__ = ["under_mode"]

_MONITOR_NOTE = "monitor mode, forwarded; would "


def under_mode(decision: RecipientDecision, mode: PolicyMode) -> RecipientDecision:
    """The decision as carried out in `mode`: in monitor mode a refusal is forwarded and
    rides along in `monitored`, so every record says "would reject"."""
    if mode is PolicyMode.ENFORCE or decision.action is not Action.REJECT:
        return decision
    facts = {**decision.facts, "monitor": f"would {decision.action.value}"}
    # explain and the SMTP reply read the findings' reasons: say it there too.
    note = f"{_MONITOR_NOTE}{decision.action.value}"
    findings = tuple(
        replace(f, reason=f"{note}: {f.reason}") if f.action is decision.action else f
        for f in decision.findings
    )
    return replace(
        decision,
        action=Action.FORWARD,
        rewrite=None,
        facts=facts,
        findings=findings,
        record_first_message=False,
        record_repermission=False,
        monitored=decision,
    )
