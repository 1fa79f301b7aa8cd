"""The relay's decision step: register facts + policy engine + per-recipient rewriting.

`RegisterCompliance` implements the service's `Compliance` seam. It loads facts from the
store, asks the pure engine for a decision per recipient, applies monitor mode, signs the
unsubscribe token and rewrites one copy per recipient (each copy carries that recipient's
own unsubscribe link), and keeps the audit trail. Messages sent to the relay's own
unsubscribe mailbox are consumed here: they record an objection and go nowhere else.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial

from proxy.feedback.events import EventType, new_event
from proxy.feedback.mailboxes import FeedbackMailboxes
from proxy.metrics import Metrics
from proxy.mime.dkim import DkimSigner, has_dkim_signature
from proxy.mime.footer_render import FooterValues, render_footer
from proxy.mime.headers import has_marker, has_valid_marker
from proxy.mime.inspect import read_message_facts
from proxy.mime.layout import Placement, footer_layout
from proxy.mime.rewrite import RewriteInstructions, rewrite, rewrite_copy
from proxy.mime.tree import parse
from proxy.model import (
    Action,
    Finding,
    MessageFacts,
    RecipientDecision,
    RecipientFacts,
    Stage,
    SuppressionOrigin,
)
from proxy.policy.engine import decide
from proxy.policy.footer_templates import authority_for, retention_for
from proxy.policy.holder import PolicyHolder
from proxy.policy.placement import footer_placed, footer_refused, needs_footer_place
from proxy.policy.policy_file import FooterMode, Policy
from proxy.policy.rules.retention import repermission_used
from proxy.rights.detail import basis_detail
from proxy.service import DataOutcome, Delivery, EnvelopeInfo
from proxy.settings import PolicyMode, Settings
from proxy.store import Store
from proxy.store.audit_writer import AuditTrail
from proxy.store.batching import FactsBatcher
from proxy.store.records import AuditRecord
from proxy.tokens import TokenSigner, UnsubscribeToken, mailto_uri

__all__ = ["RegisterCompliance", "Unsubscriber", "placed_decision"]

log = logging.getLogger(__name__)

MONITOR_NOTE = "monitor mode, forwarded; would "


class Unsubscriber:
    """Records an objection from any channel (one-click, page, mailto): store, metrics, log."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self._store = store
        self._metrics = metrics

    async def is_recorded(self, token: UnsubscribeToken) -> bool:
        return await self._store.has_address_suppression(token.address_hash, token.scope)

    async def record(self, token: UnsubscribeToken, origin: SuppressionOrigin) -> None:
        objection = new_event(
            EventType.OBJECTION,
            datetime.now(UTC),
            token.address_hash,
            origin=origin.value,
            scope=token.scope,
            controller=token.controller,
            campaign=token.campaign,
        )
        created = await self._store.add_objection(
            token.address_hash, token.scope, origin, objection
        )
        self._metrics.unsubscribes_total.labels(origin.value).inc()
        if created:
            self._metrics.suppression_entries.inc()
        log.info(
            "objection recorded: origin=%s scope=%s controller=%s campaign=%s hash=%s new=%s",
            origin.value,
            token.scope,
            token.controller,
            token.campaign or "-",
            token.address_hash[:16],
            created,
        )


class RegisterCompliance:
    """The service's `Compliance`: decides each recipient from the register and the current
    policy, and prepares each accepted recipient's own copy (see the module docstring)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        policy: PolicyHolder,
        tokens: TokenSigner,
        unsubscriber: Unsubscriber,
        audit_trail: AuditTrail,
        marker_key: bytes,
        dkim: DkimSigner | None,
        feedback: FeedbackMailboxes | None = None,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._store = store
        self._policy = policy
        self._tokens = tokens
        self._unsubscriber = unsubscriber
        self._audit_trail = audit_trail
        self._facts = FactsBatcher(store.load_recipient_facts)
        # RCPT-stage facts reused at DATA (one register read per recipient, not two); bounded
        # because abandoned transactions never come back for theirs.
        self._rcpt_facts: OrderedDict[tuple[str, str], RecipientFacts] = OrderedDict()
        # RCPT refusals audited at DATA, with the campaign the message names.
        self._rcpt_refusals: OrderedDict[str, list[RecipientDecision]] = OrderedDict()
        self._marker_key = marker_key
        self._dkim = dkim
        self._feedback = feedback  # the return path and complaints mailboxes, when enabled
        self._today = today
        self._mode_override = settings.policy.mode
        self._public_url = settings.web.public_url.rstrip("/")
        self._mailto_local = settings.unsubscribe.mailto_local_part.lower()
        self._mailto_domain = (settings.unsubscribe.mailto_domain or settings.smtp.hostname).lower()
        self._instance = settings.audit.instance

    # -- the seam ----------------------------------------------------------------------

    has_local_mailboxes = True

    def is_local_mailbox(self, address: str) -> bool:
        """`unsubscribe@<relay domain>` or `unsubscribe+anything@<relay domain>`, and the
        feedback mailboxes (return path, complaints) when `[feedback]` is enabled."""
        if self._is_feedback(address):
            return True
        local, _, domain = address.rpartition("@")
        local = local.lower()
        return domain.lower() == self._mailto_domain and (
            local == self._mailto_local or local.startswith(self._mailto_local + "+")
        )

    def _is_feedback(self, address: str) -> bool:
        return self._feedback is not None and self._feedback.is_mailbox(address)

    async def at_rcpt(self, envelope: EnvelopeInfo, address: str) -> RecipientDecision:
        if self._feedback is not None and self._feedback.is_mailbox(address):
            return self._feedback.at_rcpt(address)
        if self.is_local_mailbox(address):
            return RecipientDecision(address, Action.FORWARD, Stage.RCPT, facts={"local": "yes"})
        policy = self._policy.current
        facts = await self._facts.load([address])
        self._remember(envelope.queue_id, facts[address])
        envelope_facts = MessageFacts(
            mail_from=envelope.mail_from, client_ip=envelope.peer, auth_user=envelope.auth_user
        )
        decision = self._apply_mode(
            decide(facts[address], envelope_facts, policy, self._today(), Stage.RCPT), policy
        )
        if decision.action is Action.REJECT:
            await self._record_objection(decision)
            self._hold_refusal(envelope.queue_id, decision)
        return decision

    def transaction_ended(self, envelope: EnvelopeInfo) -> None:
        """No DATA came: record the transaction's RCPT refusals (no campaign is known)."""
        refused = self._rcpt_refusals.pop(envelope.queue_id, [])
        if refused:
            self._audit(envelope, None, refused)

    async def at_data(
        self, envelope: EnvelopeInfo, message: bytes, recipients: tuple[str, ...]
    ) -> DataOutcome:
        local: list[str] = []
        remote: list[str] = []
        for address in recipients:
            (local if self.is_local_mailbox(address) else remote).append(address)
        refused_at_rcpt = self._rcpt_refusals.pop(envelope.queue_id, [])
        try:
            return await self._data_outcome(envelope, message, local, remote, refused_at_rcpt)
        finally:
            if refused_at_rcpt:  # with the campaign the message names
                campaign_facts = read_message_facts(
                    message, mail_from="", client_ip="", auth_user=None, scan_mentions=False
                )
                self._audit(envelope, campaign_facts, refused_at_rcpt)

    async def _data_outcome(
        self,
        envelope: EnvelopeInfo,
        message: bytes,
        local: list[str],
        remote: list[str],
        refused_at_rcpt: list[RecipientDecision],
    ) -> DataOutcome:
        decisions: list[RecipientDecision] = []
        consumed: list[str] = []
        if local:
            for decision in await self._consume_local(message, tuple(local)):
                decisions.append(decision)
                if decision.action is Action.FORWARD:
                    consumed.append(decision.address)
        if not remote:
            return DataOutcome(tuple(decisions), (), consumed=tuple(consumed))

        policy = self._policy.current
        today = self._today()
        message_facts = read_message_facts(
            message,
            mail_from=envelope.mail_from,
            client_ip=envelope.peer,
            auth_user=envelope.auth_user,
            marker_key=self._marker_key,
            scan_mentions=policy.footer_mode is FooterMode.REQUIRE,
        )
        facts = await self._facts_for_data(envelope.queue_id, remote)
        deliveries: list[Delivery] = []
        untouched: list[str] = []
        remote_decisions: list[RecipientDecision] = []
        first_contacts: list[str] = []
        claims: list[str] = []
        marked = has_marker(parse(message))
        for address in remote:
            content = message_facts
            if marked:  # the marker counts only for the recipient whose footer it is
                footed = has_valid_marker(message, parse(message), self._marker_key, address)
                content = replace(message_facts, already_footed=footed)
            decision = decide(facts[address], content, policy, today, Stage.DATA)
            decision = placed_decision(decision, message)
            decision = await self._claim_repermission(decision)
            if decision.record_repermission:
                claims.append(address)
            await self._record_objection(decision)
            decision = self._apply_mode(decision, policy)
            remote_decisions.append(decision)
            if decision.action is Action.FORWARD:
                untouched.append(address)
            elif decision.action is Action.REWRITE:
                # Built when forwarded, one copy at a time: memory stays O(message).
                build = partial(
                    self._rewrite, envelope, message, message_facts, decision, policy, today
                )
                deliveries.append(
                    Delivery(
                        (address,),
                        mail_from=self._return_path(envelope, address),
                        build=build,
                        offload=self._dkim is not None,
                    )
                )
                if decision.record_first_message:
                    first_contacts.append(address)
        if untouched:  # transactional, or monitor mode: only the campaign headers go
            plain = partial(rewrite, message, RewriteInstructions(marker_key=self._marker_key))
            deliveries.insert(0, Delivery(tuple(untouched), build=plain))
        self._audit(envelope, message_facts, remote_decisions)
        decisions.extend(remote_decisions)
        return DataOutcome(
            tuple(decisions),
            tuple(deliveries),
            consumed=tuple(consumed),
            first_contacts=tuple(first_contacts),
            repermission_claims=tuple(claims),
        )

    async def settle(
        self, envelope: EnvelopeInfo, outcome: DataOutcome, delivered: frozenset[str]
    ) -> None:
        """First contacts are recorded, and re-permission claims kept, only for recipients
        whose copy was accepted: after a refusal the retry carries the same notice, and the
        re-permission message is still there to send."""
        for address in outcome.first_contacts:
            if address in delivered:
                await self._store.record_first_message(self._store.address_hash(address))
        for address in outcome.repermission_claims:
            if address not in delivered:
                await self._store.release_repermission(self._store.address_hash(address))
                log.info(
                    "re-permission claim released: the copy was not accepted",
                    extra={"queue_id": envelope.queue_id},
                )

    # -- steps -------------------------------------------------------------------------

    _MAX_REMEMBERED = 10_000

    def _remember(self, queue_id: str, facts: RecipientFacts) -> None:
        self._rcpt_facts[(queue_id, facts.address)] = facts
        while len(self._rcpt_facts) > self._MAX_REMEMBERED:
            self._rcpt_facts.popitem(last=False)

    async def _facts_for_data(
        self, queue_id: str, addresses: Sequence[str]
    ) -> dict[str, RecipientFacts]:
        """The facts read at RCPT for this transaction; the register for any missing."""
        facts: dict[str, RecipientFacts] = {}
        for address in addresses:
            remembered = self._rcpt_facts.pop((queue_id, address), None)
            if remembered is not None:
                facts[address] = remembered
        missing = [address for address in addresses if address not in facts]
        if missing:
            facts.update(await self._facts.load(missing))
        return facts

    def _hold_refusal(self, queue_id: str, decision: RecipientDecision) -> None:
        """Keep a RCPT refusal until DATA names the campaign (or the transaction ends)."""
        self._rcpt_refusals.setdefault(queue_id, []).append(decision)
        while len(self._rcpt_refusals) > self._MAX_REMEMBERED:
            self._rcpt_refusals.popitem(last=False)

    def _apply_mode(self, decision: RecipientDecision, policy: Policy) -> RecipientDecision:
        """Monitor mode: decide and log, but forward (untouched) what enforce mode would
        refuse; the refusal rides along in `monitored` so every record says "would reject"."""
        mode = self._mode_override or policy.mode
        if mode is PolicyMode.ENFORCE or decision.action is not Action.REJECT:
            return decision
        facts = {**decision.facts, "monitor": f"would {decision.action.value}"}
        # explain and the SMTP reply read the findings' reasons: say it there too.
        note = f"{MONITOR_NOTE}{decision.action.value}"
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

    async def _record_objection(self, decision: RecipientDecision) -> None:
        """The engine says when an objection must be written (`objected`, see that rule)."""
        if decision.record_objection:
            await self._store.add_suppression(
                address=decision.address, origin=SuppressionOrigin.OBJECTION
            )

    async def _claim_repermission(self, decision: RecipientDecision) -> RecipientDecision:
        """Only one re-permission message per contact, even across relay instances."""
        if not decision.record_repermission:
            return decision
        if await self._store.record_repermission(self._store.address_hash(decision.address)):
            return decision
        return repermission_used(decision)

    def _rewrite(
        self,
        envelope: EnvelopeInfo,
        message: bytes,
        message_facts: MessageFacts,
        decision: RecipientDecision,
        policy: Policy,
        today: date,
    ) -> bytes:
        plan = decision.rewrite
        assert plan is not None  # the engine gives every REWRITE a plan
        controller = policy.controller(plan.controller)
        signed = self._tokens.sign(
            UnsubscribeToken(
                address_hash=self._store.address_hash(decision.address),
                scope=f"controller:{plan.controller}",
                controller=plan.controller,
                language=plan.language,
                issued=today,
                campaign=message_facts.campaign_id,
            )
        )
        url = f"{self._public_url}/u/{signed}" if plan.list_unsubscribe or plan.footer else None
        mailto = mailto_uri(self._mailto_local, self._mailto_domain, signed)
        footer_text = footer_html = ""
        notice = plan.first_contact_notice
        if plan.footer or notice:
            template = policy.compiled.footers[plan.language]
            values = FooterValues(
                legal_name=controller.legal_name,
                postal_address=controller.postal_address,
                source=plan.source,
                unsubscribe_url=url or "",
                unsubscribe_mailto=mailto,
                privacy_url=controller.privacy_url,
                retention=retention_for(plan.language, policy.retention.prospect_months * 30),
                authority=authority_for(plan.language, decision.facts.get("country", "")),
            )
            footer_text = render_footer(template, values, False, notice, plan.footer)
            footer_html = render_footer(template, values, True, notice, plan.footer)
        result = rewrite_copy(
            message,
            RewriteInstructions(
                footer_text=footer_text,
                footer_html=footer_html,
                list_unsubscribe_url=url if plan.list_unsubscribe else None,
                list_unsubscribe_mailto=mailto if plan.list_unsubscribe else None,
                visible_recipient=decision.address if plan.split_recipients else None,
                marker_key=self._marker_key,
                marker_recipient=decision.address,
            ),
        )
        if footer_text and result.footer is not footer_layout(message).placement:
            raise RuntimeError("the copy's footer placement differs from the decision's")
        copy = result.message
        if self._dkim is not None:
            return self._dkim.sign(copy)
        if has_dkim_signature(message):
            log.warning(
                "rewriting invalidated the message's DKIM signature and no signing key is "
                "configured ([dkim] domain, selector, private_key_file)",
                extra={"queue_id": envelope.queue_id},
            )
        return copy

    def _return_path(self, envelope: EnvelopeInfo, address: str) -> str | None:
        """The copy's own VERP envelope sender, so its bounce names its recipient; the null
        sender stays null (a notification must not cause a bounce)."""
        if self._feedback is None or not envelope.mail_from:
            return None
        return self._feedback.return_path.address(self._store.address_hash(address))

    async def _consume_local(
        self, message: bytes, recipients: tuple[str, ...]
    ) -> list[RecipientDecision]:
        feedback = [a for a in recipients if self._is_feedback(a)]
        unsubscribe = tuple(a for a in recipients if a not in feedback)
        results = await self._consume_unsubscribe(message, unsubscribe) if unsubscribe else []
        if self._feedback is not None:
            for address in feedback:
                results.append(await self._feedback.consume(message, address))
        return results

    async def _consume_unsubscribe(
        self, message: bytes, recipients: tuple[str, ...]
    ) -> list[RecipientDecision]:
        """A mail to the unsubscribe mailbox: the token rides in the Subject or local part."""
        subject = read_message_facts(
            message, mail_from="", client_ip="", auth_user=None, scan_mentions=False
        ).subject
        results: list[RecipientDecision] = []
        for address in recipients:
            try:
                token = self._tokens.find(f"{subject} {address.rpartition('@')[0]}")
            except Exception as exc:  # TokenError: say so to the sender, never drop silently
                finding = Finding(
                    rule="unsubscribe-token",
                    action=Action.REJECT,
                    reason="no valid unsubscribe token in the subject; use the link instead",
                    reason_code=f"token.{type(exc).__name__}",
                )
                results.append(
                    RecipientDecision(address, Action.REJECT, Stage.DATA, findings=(finding,))
                )
                continue
            await self._unsubscriber.record(token, SuppressionOrigin.MAILTO)
            results.append(
                RecipientDecision(address, Action.FORWARD, Stage.DATA, facts={"local": "yes"})
            )
        return results

    def _audit(
        self,
        envelope: EnvelopeInfo,
        message_facts: MessageFacts | None,
        decisions: Sequence[RecipientDecision],
    ) -> None:
        now = datetime.now(UTC)
        sender_hash = self._store.address_hash(envelope.mail_from) if envelope.mail_from else ""
        campaign = message_facts.campaign_id if message_facts is not None else None
        self._audit_trail.add(
            [
                AuditRecord(
                    created_at=now,
                    queue_id=envelope.queue_id,
                    sender_hash=sender_hash,
                    recipient_hash=self._store.address_hash(d.address),
                    action=d.action,
                    rule_ids=d.acting_rules,
                    would_action=d.monitored.action if d.monitored is not None else None,
                    would_rule_ids=d.monitored.acting_rules if d.monitored is not None else (),
                    basis=d.basis,
                    basis_detail=basis_detail(d.basis, d.facts),
                    campaign=campaign or d.facts.get("campaign") or None,
                    country=_iso_country(d.facts.get("country")),
                    instance=self._instance,
                )
                for d in decisions
            ]
        )


def placed_decision(decision: RecipientDecision, message: bytes) -> RecipientDecision:
    """The decision as the copy will be: the mime layer finds where the footer goes, the
    policy (`proxy.policy.placement`) decides what that means for the recipient."""
    if not needs_footer_place(decision):
        return decision
    layout = footer_layout(message)
    if layout.placement is Placement.REFUSED:
        return footer_refused(decision, layout.reason)
    return footer_placed(decision, layout.describe())


def _iso_country(country: str | None) -> str | None:
    """The audit column holds ISO alpha-2 codes; an unknown country (the `STRICT` profile)
    is recorded as none. A longer value would make PostgreSQL refuse the whole batch."""
    return country if country is not None and len(country) == 2 else None
