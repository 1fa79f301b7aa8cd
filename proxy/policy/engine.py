"""decide(): run every rule of a stage, keep every finding, resolve once by fixed precedence.

Pure: facts + policy + today in, a RecipientDecision out. Monitor mode is the service's
business (it decides whether to enforce); this module always says what the law requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from proxy.model import (
    Action,
    Basis,
    Finding,
    MessageFacts,
    RecipientDecision,
    RecipientFacts,
    Record,
    RewritePlan,
    RewriteStep,
    Stage,
)
from proxy.policy.address import normalise_address
from proxy.policy.classify import country_of_normalised
from proxy.policy.context import RuleContext
from proxy.policy.derive import (
    build_context,
    campaign_facts,
    envelope_transactional,
    resolve_controller,
)
from proxy.policy.policy_file import Policy
from proxy.policy.rules import RULES, Rule

__all__ = [
    "PRECEDENCE",
    "Evaluation",
    "RuleMiss",
    "decide",
    "evaluate",
    "explain_lines",
    "resolve_action",
]

PRECEDENCE: dict[Action, int] = {
    Action.FORWARD: 0,
    Action.REWRITE: 1,
    Action.REJECT: 2,
    Action.TEMPFAIL: 3,
}


@dataclass(frozen=True, slots=True)
class RuleMiss:
    """A rule that did not hit, and why (for `explain`)."""

    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The decision plus each rule's verdict, in rule order."""

    decision: RecipientDecision
    verdicts: tuple[Finding | RuleMiss, ...]  # one per rule, in rule order


def resolve_action(findings: tuple[Finding, ...] | list[Finding]) -> Action:
    """TEMPFAIL > REJECT > REWRITE > FORWARD; no finding forwards."""
    action = Action.FORWARD
    for finding in findings:
        if PRECEDENCE[finding.action] > PRECEDENCE[action]:
            action = finding.action
    return action


def decide(
    recipient: RecipientFacts,
    message: MessageFacts | None,
    policy: Policy,
    today: date,
    stage: Stage,
) -> RecipientDecision:
    """The decision for one recipient at one stage (see `evaluate`)."""
    return evaluate(recipient, message, policy, today, stage).decision


def evaluate(
    recipient: RecipientFacts,
    message: MessageFacts | None,
    policy: Policy,
    today: date,
    stage: Stage,
    rules: tuple[Rule, ...] = RULES,
) -> Evaluation:
    """Run the stage's rules and resolve.

    At DATA `message` is required and everything is known. At RCPT the campaign, the From
    header and hence the controller are not known yet, and without `message` (the envelope:
    mail_from, client_ip, auth_user) neither is whether the sender is transactional. The RCPT
    verdict is computed for every controller (and both transactional possibilities when the
    envelope is missing) and is a refusal only if every one of them refuses: RCPT refuses only
    what no message content could make lawful.
    """
    if stage is Stage.DATA:
        if message is None:
            raise ValueError("decide at DATA needs the message facts")
        campaign = campaign_facts(message, policy)
        controller_id = resolve_controller(campaign, message, policy)
        country = country_of_normalised(normalise_address(recipient.address), recipient.contact)
        advertising = campaign.category in policy.profile(country).advertising_categories
        transactional = envelope_transactional(message, policy) and not advertising
        ctx = build_context(
            recipient, message, policy, today, stage, campaign, controller_id, transactional
        )
        return _evaluate_context(ctx, rules)
    default = policy.compiled.default_controller
    controllers = [default, *(cid for cid in policy.controllers if cid != default)]
    tx_options = [envelope_transactional(message, policy)] if message is not None else [False, True]
    first_pass: Evaluation | None = None
    first_refusal: Evaluation | None = None
    for controller_id in controllers:
        for transactional in tx_options:
            ctx = build_context(
                recipient, message, policy, today, stage, None, controller_id, transactional
            )
            result = _evaluate_context(ctx, rules)
            if result.decision.action is Action.REJECT:
                first_refusal = first_refusal or result
            else:
                first_pass = first_pass or result
    chosen = first_pass or first_refusal
    assert chosen is not None  # at least one controller exists
    return chosen


def _evaluate_context(ctx: RuleContext, rules: tuple[Rule, ...]) -> Evaluation:
    hits: list[Finding] = []
    verdicts: list[Finding | RuleMiss] = []
    at_rcpt = ctx.stage is Stage.RCPT
    for rule in rules:
        if at_rcpt and rule.stage is Stage.DATA:
            verdicts.append(_miss(rule.name, "runs at DATA"))
        elif ctx.transactional and rule.commercial_only:
            verdicts.append(_miss(rule.name, "not applicable: transactional mail"))
        else:
            finding = rule.check(ctx)
            if finding is None:
                verdicts.append(_miss(rule.name, "condition not met"))
            else:
                hits.append(finding)
                verdicts.append(finding)
    findings = tuple(hits)
    action = resolve_action(findings)
    rewriting = action is Action.REWRITE
    repermission = ctx.retention.stale and ctx.retention.repermission
    records = {f.record for f in findings if f.record is not None}
    decision = RecipientDecision(
        address=ctx.recipient.address,
        action=action,
        stage=ctx.stage,
        basis=_basis(ctx, repermission),
        findings=findings,
        rewrite=_plan(ctx, findings) if rewriting else None,
        facts=_facts(ctx),
        record_first_message=rewriting and ctx.first_contact,
        record_repermission=rewriting and Record.REPERMISSION in records,
        record_objection=Record.OBJECTION in records,
    )
    return Evaluation(decision, tuple(verdicts))


@lru_cache(maxsize=256)
def _miss(rule: str, reason: str) -> RuleMiss:
    """Misses are a few constant values: share them instead of building 20 per recipient."""
    return RuleMiss(rule, reason)


def _basis(ctx: RuleContext, repermission: bool) -> Basis:
    if ctx.transactional:
        return Basis.TRANSACTIONAL
    if repermission and ctx.at_data:
        return Basis.REPERMISSION
    return ctx.basis


def _plan(ctx: RuleContext, findings: tuple[Finding, ...]) -> RewritePlan:
    """The edits the REWRITE findings ask for, by their typed step (no rule names here)."""
    steps = {f.rewrite for f in findings if f.action is Action.REWRITE}
    return RewritePlan(
        language=ctx.policy.language(ctx.country),
        controller=ctx.controller_id,
        source=ctx.source or "",
        first_contact_notice=RewriteStep.FIRST_CONTACT_NOTICE in steps,
        footer=RewriteStep.FOOTER in steps,
        list_unsubscribe=RewriteStep.LIST_UNSUBSCRIBE in steps,
        split_recipients=RewriteStep.SPLIT_RECIPIENTS in steps,
    )


def _facts(ctx: RuleContext) -> dict[str, str]:
    """The facts the rules used, as strings for the log and `explain` (no address)."""
    contact = ctx.contact
    facts = {
        "stage": ctx.stage.value,
        "policy_version": ctx.policy.compiled.version,
        "controller": ctx.controller_id,
        "transactional": "yes" if ctx.transactional else "no",
        "kind": ctx.kind.value,
        "country": ctx.country,
        "profile": ctx.profile.code,
        "in_register": "yes" if contact is not None else "no",
        "consent": ctx.consent.status.value,
        "soft_optin": ctx.soft_optin.status.value,
        "basis": ctx.basis.value,
        "customer": "yes" if ctx.retention.is_customer else "no",
        "retention": ctx.retention.reason,
        "source_kind": ctx.source_kind.value if ctx.source_kind is not None else "none",
        "source": ctx.source or "",
        "first_contact": "yes" if ctx.first_contact else "no",
        "suppressions": ",".join(s.scope for s in ctx.recipient.suppressions),
    }
    if ctx.consent.code not in ("consent.valid", "consent.missing"):
        facts["consent_detail"] = ctx.consent.reason
    if contact is not None and contact.job_function:
        facts["job_function"] = contact.job_function
    if ctx.basis is Basis.CONSENT and contact is not None:  # kept with the audit record
        if contact.consent_at is not None:
            facts["consent_at"] = contact.consent_at.isoformat()
        if contact.consent_method is not None:
            facts["consent_method"] = contact.consent_method.value
    campaign = ctx.campaign
    if campaign is not None:
        facts["campaign"] = campaign.campaign_id or ""
        facts["product"] = campaign.product or ""
        facts["category"] = campaign.category or ""
        facts["targets"] = ";".join(campaign.targets)
        facts["partner_offers"] = "yes" if campaign.partner_offers else "no"
        facts["repermission"] = "yes" if campaign.repermission else "no"
    return facts


def explain_lines(evaluation: Evaluation) -> list[str]:
    """Human-readable trail for `prospect-relay explain`: decision, facts, each rule's verdict."""
    decision = evaluation.decision
    deciding = decision.deciding
    head = f"decision: {decision.action.value} at {decision.stage.value}"
    if deciding is not None:
        head += f" ({deciding.rule}: {deciding.reason})"
    lines = [head, f"basis: {decision.basis.value}"]
    if decision.rewrite is not None:
        plan = decision.rewrite
        lines.append(
            f"rewrite: language={plan.language} controller={plan.controller} "
            f"footer={plan.footer} notice={plan.first_contact_notice} "
            f"list_unsubscribe={plan.list_unsubscribe} split={plan.split_recipients}"
        )
    lines.append("facts: " + " ".join(f"{k}={v!r}" for k, v in decision.facts.items()))
    for verdict in evaluation.verdicts:
        if isinstance(verdict, Finding):
            # "moot": a refused recipient's rewrite rules hit, but nothing is rewritten
            moot = verdict.action is Action.REWRITE and decision.action is not Action.REWRITE
            label = "moot" if moot else "hit "
            lines.append(
                f"  {label}  {verdict.rule:<22} {verdict.action.value:<8} {verdict.reason} "
                f"[{verdict.reason_code}]"
            )
        else:
            lines.append(f"  miss  {verdict.rule:<22} {verdict.reason}")
    return lines
