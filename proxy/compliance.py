"""The relay's decision step: register facts + policy engine, per recipient.

`RegisterCompliance` implements the service's `Compliance` seam. It loads facts from the
store, asks the pure engine for a decision per recipient, applies monitor mode, carries out
what the decisions say to write (an objection, the claim on the one re-permission message,
first contacts) and keeps the audit trail. Mail for the relay's own mailboxes goes to
`proxy.local_mail`; each accepted recipient's copy is built by `proxy.copies`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial

from proxy.copies import CopyBuilder, placed_decision
from proxy.local_mail import LocalMailboxes
from proxy.mime.headers import has_marker, has_valid_marker
from proxy.mime.inspect import read_message_facts
from proxy.mime.tree import parse
from proxy.model import (
    Action,
    MessageFacts,
    RecipientDecision,
    RecipientFacts,
    Stage,
    SuppressionOrigin,
)
from proxy.policy.engine import decide
from proxy.policy.holder import PolicyHolder
from proxy.policy.mode import under_mode
from proxy.policy.policy_file import FooterMode, Policy
from proxy.policy.rules.retention import repermission_used
from proxy.rights.detail import basis_detail
from proxy.service import DataOutcome, Delivery, EnvelopeInfo
from proxy.settings import Settings
from proxy.store import Store
from proxy.store.audit_writer import AuditTrail
from proxy.store.batching import FactsBatcher
from proxy.store.records import AuditRecord

__all__ = ["RegisterCompliance"]

log = logging.getLogger(__name__)


class RegisterCompliance:
    """The service's `Compliance`: decides each recipient from the register and the current
    policy, and hands each accepted recipient's copy to `copies` (see the module docstring)."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        policy: PolicyHolder,
        mailboxes: LocalMailboxes,
        copies: CopyBuilder,
        audit_trail: AuditTrail,
        marker_key: bytes,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._store = store
        self._policy = policy
        self._mailboxes = mailboxes
        self._copies = copies
        self._audit_trail = audit_trail
        self._facts = FactsBatcher(store.load_recipient_facts)
        # RCPT-stage facts reused at DATA (one register read per recipient, not two); bounded
        # because abandoned transactions never come back for theirs.
        self._rcpt_facts: OrderedDict[tuple[str, str], RecipientFacts] = OrderedDict()
        # RCPT refusals audited at DATA, with the campaign the message names.
        self._rcpt_refusals: OrderedDict[str, list[RecipientDecision]] = OrderedDict()
        self._marker_key = marker_key  # reads the footer marker of an already footed copy
        self._today = today
        self._mode_override = settings.policy.mode
        self._instance = settings.audit.instance

    # -- the seam ----------------------------------------------------------------------

    has_local_mailboxes = True

    def is_local_mailbox(self, address: str) -> bool:
        return self._mailboxes.is_local(address)

    async def at_rcpt(self, envelope: EnvelopeInfo, address: str) -> RecipientDecision:
        if self._mailboxes.is_local(address):
            return self._mailboxes.at_rcpt(address)
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
            (local if self._mailboxes.is_local(address) else remote).append(address)
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
            for decision in await self._mailboxes.consume(message, tuple(local)):
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
                    self._copies.build,
                    envelope.queue_id,
                    message,
                    message_facts,
                    decision,
                    policy,
                    today,
                )
                deliveries.append(
                    Delivery(
                        (address,),
                        mail_from=self._copies.return_path(envelope.mail_from, address),
                        build=build,
                        offload=self._copies.signs,
                    )
                )
                if decision.record_first_message:
                    first_contacts.append(address)
        if untouched:  # transactional, or monitor mode: only the campaign headers go
            plain = partial(self._copies.untouched, message)
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
        return under_mode(decision, self._mode_override or policy.mode)

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


def _iso_country(country: str | None) -> str | None:
    """The audit column holds ISO alpha-2 codes; an unknown country (the `STRICT` profile)
    is recorded as none. A longer value would make PostgreSQL refuse the whole batch."""
    return country if country is not None and len(country) == 2 else None
