"""One SMTP transaction: access control, compliance decisions, forwarding, and the record.

The service is the only caller of the compliance seam (`Compliance`), the forwarder and the
decision log; the SMTP layer calls `check_sender`, `check_recipient` and `deliver` and only
writes the replies they return. Faults inside a check become 451 (fail closed, retryable).

Mixed outcomes: when the message is accepted for some recipients and refused for others
after RCPT (by a DATA-stage rule or by the upstream), the client gets 250 and the refused
recipients are reported in an RFC 3464 delivery status notification (proxy/dsn.py)
sent to the envelope sender with a null return path; never for the null sender, and for
unauthenticated clients only when `smtp.send_dsn` is on.
"""

from __future__ import annotations

import email.utils
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from proxy import replies
from proxy.dsn import build_dsn
from proxy.errors import BudgetExceeded, StoreUnavailable
from proxy.forward import Forwarder, ForwardResult
from proxy.logs import DecisionLog, MessageRecord, RecipientRecord
from proxy.metrics import Metrics
from proxy.mime.limits import ContentLimits, LimitExceeded, check_and_read, check_limits
from proxy.mime.memo import message_memo
from proxy.model import Action, Finding, RecipientDecision, Stage
from proxy.networks import in_networks
from proxy.offload import Offloader
from proxy.replies import SmtpReply
from proxy.settings import Settings

__all__ = [
    "Compliance",
    "DataOutcome",
    "Delivery",
    "EnvelopeInfo",
    "PassThroughCompliance",
    "RelayService",
]

log = logging.getLogger(__name__)

_ACCEPTING = (Action.FORWARD, Action.REWRITE)


@dataclass(frozen=True, slots=True)
class EnvelopeInfo:
    """What the SMTP session knows about the current transaction."""

    queue_id: str
    peer: str  # client IP address
    auth_user: str | None
    mail_from: str  # "" for the null sender
    smtputf8: bool
    helo: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One version of the message for some recipients (rewriting may make several).

    Either `message` as is, or `build`, called when this delivery is forwarded: copies are
    made one at a time, so memory is O(message) whatever the number of recipients. A large
    message's copies are built in a worker thread (proxy/offload.py); `offload` sends this
    one there whatever its size (DKIM signing costs milliseconds).
    """

    recipients: tuple[str, ...]
    message: bytes = b""
    mail_from: str | None = None  # this copy's own envelope sender (VERP); None: the client's
    build: Callable[[], bytes] | None = None
    offload: bool = False


@dataclass(frozen=True, slots=True)
class DataOutcome:
    """The compliance result at end of DATA: a decision per recipient, and what to send.

    `consumed` recipients were handled by the relay itself (its unsubscribe mailbox): they
    count as delivered although no delivery carries them. `first_contacts` (their copy
    carries the first-contact notice) and `repermission_claims` (the one re-permission
    message, claimed before forwarding) are settled by `Compliance.settle` once the
    upstream has answered: a retry after a refusal must be the same message.
    """

    decisions: tuple[RecipientDecision, ...]
    deliveries: tuple[Delivery, ...]
    consumed: tuple[str, ...] = ()
    first_contacts: tuple[str, ...] = ()
    repermission_claims: tuple[str, ...] = ()


class Compliance(Protocol):
    """The decision step between receiving and forwarding (engine + store + mime)."""

    @property
    def has_local_mailboxes(self) -> bool:
        """Whether the relay receives mail itself (its unsubscribe mailbox)."""
        ...

    def is_local_mailbox(self, address: str) -> bool:
        """A mailbox of the relay itself, open to any network."""
        ...

    async def at_rcpt(self, envelope: EnvelopeInfo, address: str) -> RecipientDecision: ...

    async def at_data(
        self, envelope: EnvelopeInfo, message: bytes, recipients: tuple[str, ...]
    ) -> DataOutcome: ...

    async def settle(
        self, envelope: EnvelopeInfo, outcome: DataOutcome, delivered: frozenset[str]
    ) -> None:
        """Commit the state the outcome consumes for `delivered` recipients only (their copy
        was accepted upstream or written to the outbox); give it back for the others."""
        ...

    def transaction_ended(self, envelope: EnvelopeInfo) -> None:
        """The transaction ended without DATA (its RCPT refusals can be recorded now)."""
        ...


class PassThroughCompliance:
    """Forwards everything unchanged: the tests' and the benchmark's compliance-off relay."""

    has_local_mailboxes = False

    def is_local_mailbox(self, address: str) -> bool:
        return False

    async def at_rcpt(self, envelope: EnvelopeInfo, address: str) -> RecipientDecision:
        return RecipientDecision(address=address, action=Action.FORWARD, stage=Stage.RCPT)

    async def at_data(
        self, envelope: EnvelopeInfo, message: bytes, recipients: tuple[str, ...]
    ) -> DataOutcome:
        decisions = tuple(
            RecipientDecision(address=a, action=Action.FORWARD, stage=Stage.DATA)
            for a in recipients
        )
        return DataOutcome(decisions=decisions, deliveries=(Delivery(recipients, message),))

    async def settle(
        self, envelope: EnvelopeInfo, outcome: DataOutcome, delivered: frozenset[str]
    ) -> None:
        """Nothing consumed, nothing to commit."""

    def transaction_ended(self, envelope: EnvelopeInfo) -> None:
        return None


def _bounce_decision(address: str, stage: Stage) -> RecipientDecision:
    finding = Finding(rule="null-sender", action=Action.FORWARD, reason="bounce or DSN")
    return RecipientDecision(address, Action.FORWARD, stage, findings=(finding,))


def _tempfail(address: str, stage: Stage, rule: str, reason: str) -> RecipientDecision:
    finding = Finding(rule=rule, action=Action.TEMPFAIL, reason=reason)
    return RecipientDecision(address, Action.TEMPFAIL, stage, findings=(finding,))


class RelayService:
    def __init__(
        self,
        settings: Settings,
        forwarder: Forwarder,
        decision_log: DecisionLog,
        metrics: Metrics,
        compliance: Compliance,
    ) -> None:
        self._settings = settings
        self._forwarder = forwarder
        self._log = decision_log
        self._metrics = metrics
        self._compliance = compliance
        self._networks = settings.smtp.allowed_networks
        self._auth_possible = bool(settings.smtp.users) and settings.smtp.tls_cert is not None
        self._hostname = settings.smtp.hostname
        self._public_mailbox = (
            settings.unsubscribe.public_mailbox and compliance.has_local_mailboxes
        )
        self._limits = ContentLimits(
            max_header_size=settings.content.max_header_size,
            max_mime_parts=settings.content.max_mime_parts,
            max_mime_depth=settings.content.max_mime_depth,
        )
        self._offload = Offloader(
            threshold=settings.content.offload_threshold,
            workers=settings.content.offload_workers,
            budget=settings.content.processing_budget,
        )

    @staticmethod
    def new_queue_id() -> str:
        return secrets.token_hex(6)

    def _may_relay(self, envelope: EnvelopeInfo) -> bool:
        return envelope.auth_user is not None or in_networks(envelope.peer, self._networks)

    def _is_bounce(self, envelope: EnvelopeInfo) -> bool:
        """A null-sender message (a bounce or DSN, RFC 5321 4.5.5) from a client that may
        relay: not commercial, so forwarded untouched; the sender must learn of failures."""
        return not envelope.mail_from and self._may_relay(envelope)

    async def _checked(
        self, envelope: EnvelopeInfo, message: bytes, recipients: tuple[str, ...]
    ) -> DataOutcome:
        if not recipients:  # only bounces: nothing for compliance to decide
            return DataOutcome(decisions=(), deliveries=())
        return await self._compliance.at_data(envelope, message, recipients)

    def _access_denied(self, envelope: EnvelopeInfo) -> SmtpReply:
        log.info(
            "relay access denied for peer %s", envelope.peer, extra={"queue_id": envelope.queue_id}
        )
        return replies.AUTH_REQUIRED if self._auth_possible else replies.RELAY_DENIED

    async def check_sender(self, envelope: EnvelopeInfo) -> SmtpReply:
        """MAIL FROM: only allowed networks or authenticated clients may relay.

        With a public unsubscribe mailbox, other peers get past MAIL and are refused at RCPT
        for every address but that mailbox (so mailbox providers can deliver objections).
        """
        if self._may_relay(envelope) or self._public_mailbox:
            return replies.SENDER_OK
        return self._access_denied(envelope)

    async def check_recipient(
        self, envelope: EnvelopeInfo, address: str
    ) -> tuple[SmtpReply, RecipientDecision]:
        """RCPT TO: the compliance decision that needs only the envelope and the register."""
        qid = envelope.queue_id
        if not self._may_relay(envelope) and not self._compliance.is_local_mailbox(address):
            finding = Finding(rule="relay-denied", action=Action.REJECT, reason="relay denied")
            denied = RecipientDecision(address, Action.REJECT, Stage.RCPT, findings=(finding,))
            return self._access_denied(envelope), denied
        if self._is_bounce(envelope) and not self._compliance.is_local_mailbox(address):
            return replies.RECIPIENT_OK, _bounce_decision(address, Stage.RCPT)
        try:
            decision = await self._compliance.at_rcpt(envelope, address)
        except StoreUnavailable as exc:
            log.warning("store unavailable at RCPT: %s", exc, extra={"queue_id": qid})
            return replies.store_unavailable(qid), _tempfail(
                address, Stage.RCPT, "store-unavailable", "compliance data unavailable"
            )
        except Exception:
            log.exception("compliance check failed at RCPT", extra={"queue_id": qid})
            return replies.local_error(qid), _tempfail(
                address, Stage.RCPT, "internal-error", "compliance check failed"
            )
        return replies.for_decision(decision, qid), decision

    async def deliver(
        self, envelope: EnvelopeInfo, message: bytes, rcpt_decisions: Sequence[RecipientDecision]
    ) -> SmtpReply:
        """End of DATA: decide per recipient, forward, merge results, record, reply."""
        with message_memo(message):  # what is read from the message, kept for its time only
            return await self._deliver(envelope, message, rcpt_decisions)

    async def _deliver(
        self, envelope: EnvelopeInfo, message: bytes, rcpt_decisions: Sequence[RecipientDecision]
    ) -> SmtpReply:
        started = time.perf_counter()
        qid = envelope.queue_id
        recipients = tuple(d.address for d in rcpt_decisions if d.action in _ACCEPTING)
        bounced: tuple[str, ...] = ()
        if self._is_bounce(envelope):
            bounced = tuple(a for a in recipients if not self._compliance.is_local_mailbox(a))
            recipients = tuple(a for a in recipients if a not in bounced)
        try:
            exceeded = await self._offload.run(len(message), self._inspection(message, recipients))
            if exceeded is not None:  # bounces too: every message is held to the limits
                log.info("message refused: %s", exceeded.text, extra={"queue_id": qid})
                outcome = self._all_refused((*recipients, *bounced), exceeded)
                bounced = ()
            else:
                outcome = await self._checked(envelope, message, recipients)
        except BudgetExceeded as exc:
            log.warning("message processing %s", exc, extra={"queue_id": qid})
            outcome = DataOutcome(tuple(_over_budget(a, exc) for a in recipients), ())
        except StoreUnavailable as exc:
            log.warning("store unavailable at DATA: %s", exc, extra={"queue_id": qid})
            outcome = self._all_tempfail(recipients, "store-unavailable", "data unavailable")
        except Exception:
            log.exception("compliance check failed at DATA", extra={"queue_id": qid})
            outcome = self._all_tempfail(recipients, "internal-error", "compliance check failed")
        if bounced:
            outcome = replace(
                outcome,
                decisions=(*outcome.decisions, *(_bounce_decision(a, Stage.DATA) for a in bounced)),
                deliveries=(Delivery(bounced, message), *outcome.deliveries),
            )
        self._metrics.decision_seconds.observe(time.perf_counter() - started)

        refused: dict[str, SmtpReply] = {}
        for decision in outcome.decisions:
            if decision.action not in _ACCEPTING:
                refused[decision.address] = self._decision_reply(decision, qid)
        upstream_refused: dict[str, SmtpReply] = {}
        accepted: list[str] = []
        results: list[ForwardResult] = []
        try:
            for delivery in outcome.deliveries:
                try:
                    content = await self._content(delivery, len(message))
                except BudgetExceeded as exc:
                    log.warning("copy building %s", exc, extra={"queue_id": qid})
                    outcome = _copy_over_budget(outcome, delivery.recipients, exc)
                    for address in delivery.recipients:
                        refused[address] = self._decision_reply(_over_budget(address, exc), qid)
                    continue
                result = await self._forwarder.forward(
                    envelope.mail_from if delivery.mail_from is None else delivery.mail_from,
                    delivery.recipients,
                    self._trace(envelope, content),
                    queue_id=qid,
                    smtputf8=envelope.smtputf8,
                )
                results.append(result)
                accepted.extend(result.accepted)
                upstream_refused.update(result.refused)
        finally:  # also when shutdown cancels the transaction: commit what was delivered
            await self._settle(envelope, outcome, frozenset(accepted))
        refused.update(upstream_refused)

        accepted.extend(outcome.consumed)
        if accepted:
            reply = replies.message_accepted(qid, self._forwarder.destination)
            reported = {**self._rcpt_refusals(rcpt_decisions, qid), **refused}
            if reported:
                await self.report_refusals(envelope, reported, message)
        else:
            reply = replies.summarize(list(refused.values()))
            if not refused:
                log.error("no delivery and no refusal for message", extra={"queue_id": qid})
        elapsed = time.perf_counter() - started
        self._metrics.delivery_seconds.observe(elapsed)
        self._record(
            envelope,
            size=len(message),
            reply=reply,
            rcpt_decisions=rcpt_decisions,
            data_decisions=outcome.decisions,
            upstream_refused=upstream_refused,
            results=results,
            latency=elapsed,
            partial=bool(accepted and refused),
        )
        return reply

    def _inspection(
        self, message: bytes, recipients: tuple[str, ...]
    ) -> Callable[[], LimitExceeded | None]:
        """The limits check; for a message read in a worker thread, also what the decision
        step will read (cached), so it finds it read and the event loop is not held."""
        if not self._offload.offloads(len(message)):
            return partial(check_limits, message, self._limits)
        footer = any(not self._compliance.is_local_mailbox(a) for a in recipients)
        return partial(check_and_read, message, self._limits, footer=footer)

    async def _content(self, delivery: Delivery, size: int) -> bytes:
        """The delivery's bytes: its copy built now, off the loop for a large message."""
        if delivery.build is None:
            return delivery.message
        return await self._offload.run(size, delivery.build, always=delivery.offload)

    def abandon(self, envelope: EnvelopeInfo, rcpt_decisions: Sequence[RecipientDecision]) -> None:
        """A transaction ended without a delivered DATA: record its RCPT-stage refusals."""
        self._compliance.transaction_ended(envelope)
        if not any(d.action not in _ACCEPTING for d in rcpt_decisions):
            return
        refusals = [
            self._decision_reply(d, envelope.queue_id)
            for d in rcpt_decisions
            if d.action not in _ACCEPTING
        ]
        self._record(
            envelope,
            size=0,
            reply=replies.summarize(refusals),
            rcpt_decisions=rcpt_decisions,
            data_decisions=(),
            upstream_refused={},
            results=[],
            latency=0.0,
            partial=False,
        )

    async def report_refusals(
        self, envelope: EnvelopeInfo, refused: dict[str, SmtpReply], message: bytes = b""
    ) -> None:
        """Tell the sender about recipients refused after the message was accepted (DSN)."""
        qid = envelope.queue_id
        if not envelope.mail_from:
            log.info("refusals not reported: null sender", extra={"queue_id": qid})
            return
        if envelope.auth_user is None and not self._settings.smtp.send_dsn:
            log.info("refusals not reported: smtp.send_dsn is off", extra={"queue_id": qid})
            return
        dsn = build_dsn(
            hostname=self._hostname,
            queue_id=qid,
            mail_from=envelope.mail_from,
            refused=refused,
            message=message,
        )
        result = await self._forwarder.forward(
            "", [envelope.mail_from], dsn, queue_id=qid, smtputf8=not envelope.mail_from.isascii()
        )
        if result.accepted:
            log.info("delivery status notification sent", extra={"queue_id": qid})
        else:
            log.error(
                "delivery status notification failed: %s", result.reply, extra={"queue_id": qid}
            )

    async def _settle(
        self, envelope: EnvelopeInfo, outcome: DataOutcome, delivered: frozenset[str]
    ) -> None:
        """The send records follow what left; a store fault here must not turn a delivered
        message into a 451 (the client would send it again)."""
        try:
            await self._compliance.settle(envelope, outcome, delivered)
        except Exception:
            log.exception(
                "send records not updated after delivery", extra={"queue_id": envelope.queue_id}
            )

    def _rcpt_refusals(
        self, rcpt_decisions: Sequence[RecipientDecision], queue_id: str
    ) -> dict[str, SmtpReply]:
        """Recipients refused at RCPT, for the notification (`smtp.dsn_rcpt_refusals`);
        relaying attempts are not reported (no backscatter)."""
        if not self._settings.smtp.dsn_rcpt_refusals:
            return {}
        return {
            d.address: self._decision_reply(d, queue_id)
            for d in rcpt_decisions
            if d.action not in _ACCEPTING and "relay-denied" not in d.rule_ids
        }

    @staticmethod
    def _decision_reply(decision: RecipientDecision, queue_id: str) -> SmtpReply:
        return replies.for_decision(decision, queue_id)

    @staticmethod
    def _all_refused(recipients: tuple[str, ...], exceeded: LimitExceeded) -> DataOutcome:
        finding = Finding(
            rule="content-limit",
            action=Action.REJECT,
            reason=exceeded.text,
            reason_code=exceeded.reason_code,
        )
        return DataOutcome(
            decisions=tuple(
                RecipientDecision(a, Action.REJECT, Stage.DATA, findings=(finding,))
                for a in recipients
            ),
            deliveries=(),
        )

    @staticmethod
    def _all_tempfail(recipients: tuple[str, ...], rule: str, reason: str) -> DataOutcome:
        return DataOutcome(
            decisions=tuple(_tempfail(a, Stage.DATA, rule, reason) for a in recipients),
            deliveries=(),
        )

    def _trace(self, envelope: EnvelopeInfo, message: bytes) -> bytes:
        """Prepend the Received: and X-Prospect-Relay-Queue-Id: trace headers."""
        helo = replies.sanitize(envelope.helo, 100) or "unknown"
        protocol = "UTF8SMTP" if envelope.smtputf8 else "ESMTP"
        if envelope.auth_user is not None:
            protocol += "A"
        header = (
            f"Received: from {helo} ([{envelope.peer}])\r\n"
            f"\tby {self._hostname} (prospect-relay) with {protocol} id {envelope.queue_id};\r\n"
            f"\t{email.utils.formatdate()}\r\n"
            f"X-Prospect-Relay-Queue-Id: {envelope.queue_id}\r\n"
        )
        return header.encode("ascii") + message

    def _record(
        self,
        envelope: EnvelopeInfo,
        *,
        size: int,
        reply: SmtpReply,
        rcpt_decisions: Sequence[RecipientDecision],
        data_decisions: Sequence[RecipientDecision],
        upstream_refused: dict[str, SmtpReply],
        results: Sequence[ForwardResult],
        latency: float,
        partial: bool,
    ) -> None:
        qid = envelope.queue_id
        records: dict[str, RecipientRecord] = {}
        for decision in (*rcpt_decisions, *data_decisions):
            records[decision.address] = RecipientRecord(
                address=decision.address,
                action=decision.action.value,
                stage=decision.stage.value,
                rules=decision.acting_rules,
                reasons=_reasons(decision),
                reply=self._decision_reply(decision, qid).line,
                would=decision.monitored.action.value if decision.monitored else "",
                would_rules=decision.monitored.acting_rules if decision.monitored else (),
            )
        for address, refusal in upstream_refused.items():
            records[address] = RecipientRecord(
                address=address,
                action=Action.TEMPFAIL.value if refusal.is_temporary else Action.REJECT.value,
                stage="upstream",  # no rule of the relay refused it
                reply=refusal.line,
            )
        if partial:
            action = "partial"
        elif reply.code == 250:
            rewritten = any(d.action is Action.REWRITE for d in data_decisions)
            action = Action.REWRITE.value if rewritten else Action.FORWARD.value
        else:
            action = Action.TEMPFAIL.value if reply.is_temporary else Action.REJECT.value
        self._metrics.messages_total.labels(action).inc()
        for record in records.values():
            # One count per recipient, under its deciding rule (the first acting rule), as
            # `report` ranks refusals; `rule_hits_total` counts every acting rule.
            deciding = record.rules[0] if record.rules else ""
            self._metrics.recipients_total.labels(record.action, deciding).inc()
            for rule in record.rules:
                self._metrics.rule_hits_total.labels(record.action, rule).inc()
            if record.would:
                first = record.would_rules[0] if record.would_rules else ""
                self._metrics.recipients_would_total.labels(record.would, first).inc()
        self._log.record(
            MessageRecord(
                queue_id=qid,
                peer=envelope.peer,
                auth_user=envelope.auth_user,
                mail_from=envelope.mail_from,
                size=size,
                action=action,
                recipients=tuple(records.values()),
                reply=reply.line,
                upstream=results[-1].upstream if results else "",
                upstream_reply=results[-1].reply.line if results else "",
                latency_ms=latency * 1000,
            )
        )


def _over_budget(address: str, exc: BudgetExceeded) -> RecipientDecision:
    """A recipient whose processing did not finish in `content.processing_budget`: refused
    (552 5.3.4, the message is too costly to process) once the work ran that long; only
    deferred (451 4.3.0) when it never got a worker because others held them all."""
    if exc.started:
        finding = Finding(
            rule="content-limit",
            action=Action.REJECT,
            reason=f"processing took over {exc.budget:g} s",
            reason_code="limit.processing-time",
        )
        return RecipientDecision(address, Action.REJECT, Stage.DATA, findings=(finding,))
    return _tempfail(address, Stage.DATA, "busy", "too many large messages in progress")


def _copy_over_budget(
    outcome: DataOutcome, recipients: tuple[str, ...], exc: BudgetExceeded
) -> DataOutcome:
    """The outcome once `recipients`' copy could not be built in time: their decision says so
    (the record follows what was done, not what was planned)."""
    decisions = tuple(
        _over_budget(d.address, exc) if d.address in recipients else d for d in outcome.decisions
    )
    return replace(outcome, decisions=decisions)


def _reasons(decision: RecipientDecision) -> tuple[str, ...]:
    """The acting findings' reasons; in monitor mode those of the refusal not enforced."""
    acting = decision.monitored.action if decision.monitored is not None else decision.action
    return tuple(f.reason for f in decision.findings if f.action is acting)
