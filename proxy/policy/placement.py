"""The decision as the copy will be: where its footer goes, or `cannot-add-footer` when the
message cannot carry one (the mime layer measures the message, this module decides)."""

from __future__ import annotations

from dataclasses import replace

from proxy.model import Action, Finding, RecipientDecision, RewriteStep

__all__ = ["FOOTER_STEPS", "footer_placed", "footer_refused", "needs_footer_place"]

# The edits that put text into the body: where it went is said in their findings' reasons.
FOOTER_STEPS = frozenset({RewriteStep.FOOTER, RewriteStep.FIRST_CONTACT_NOTICE})


def needs_footer_place(decision: RecipientDecision) -> bool:
    """The copy carries a footer or the first-contact notice: its place must be found."""
    plan = decision.rewrite
    if decision.action is not Action.REWRITE or plan is None:
        return False
    return plan.footer or plan.first_contact_notice


def footer_refused(decision: RecipientDecision, why: str) -> RecipientDecision:
    """The message cannot carry the footer: a refusal naming why, nothing to rewrite."""
    refusal = Finding(
        rule="cannot-add-footer",
        action=Action.REJECT,
        reason=f"the footer cannot be added: {why}",
        reason_code="footer.unplaceable",
    )
    kept = tuple(f for f in decision.findings if f.action is not Action.REWRITE)
    return replace(
        decision,
        action=Action.REJECT,
        findings=(*kept, refusal),
        rewrite=None,
        record_first_message=False,
        record_repermission=False,
    )


def footer_placed(decision: RecipientDecision, where: str) -> RecipientDecision:
    """The footer findings say where the text went (the record describes the copy)."""
    findings = tuple(
        replace(f, reason=f"{f.reason} {where}") if f.rewrite in FOOTER_STEPS else f
        for f in decision.findings
    )
    return replace(decision, findings=findings)
