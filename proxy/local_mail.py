"""Mail addressed to the relay itself: the unsubscribe mailbox, and the feedback mailboxes
(return path, complaints) when `[feedback]` is enabled. It is consumed here, never forwarded.

`Unsubscriber` records an objection from any channel (this mailbox, the one-click endpoint,
the unsubscribe page): the suppression entry, the metric and the log line.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from proxy.feedback.events import EventType, new_event
from proxy.feedback.mailboxes import FeedbackMailboxes
from proxy.metrics import Metrics
from proxy.mime.inspect import read_message_facts
from proxy.model import Action, Finding, RecipientDecision, Stage, SuppressionOrigin
from proxy.store import Store
from proxy.tokens import TokenSigner, UnsubscribeToken

__all__ = ["LocalMailboxes", "Unsubscriber"]

log = logging.getLogger(__name__)


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


class LocalMailboxes:
    """`unsubscribe@<relay domain>` (or `unsubscribe+anything@`), and the feedback mailboxes."""

    def __init__(
        self,
        *,
        tokens: TokenSigner,
        unsubscriber: Unsubscriber,
        local_part: str,
        domain: str,
        feedback: FeedbackMailboxes | None,
    ) -> None:
        self._tokens = tokens
        self._unsubscriber = unsubscriber
        self._local = local_part.lower()
        self._domain = domain.lower()
        self._feedback = feedback

    def is_local(self, address: str) -> bool:
        """A mailbox of the relay itself (open to any network)."""
        if self._is_feedback(address):
            return True
        local, _, domain = address.rpartition("@")
        local = local.lower()
        return domain.lower() == self._domain and (
            local == self._local or local.startswith(self._local + "+")
        )

    def _is_feedback(self, address: str) -> bool:
        return self._feedback is not None and self._feedback.is_mailbox(address)

    def at_rcpt(self, address: str) -> RecipientDecision:
        """Accepted: the relay takes mail for its own mailboxes (`is_local` said so)."""
        if self._feedback is not None and self._feedback.is_mailbox(address):
            return self._feedback.at_rcpt(address)
        return RecipientDecision(address, Action.FORWARD, Stage.RCPT, facts={"local": "yes"})

    async def consume(self, message: bytes, recipients: tuple[str, ...]) -> list[RecipientDecision]:
        """One decision per local recipient: FORWARD when the mail was taken in (an objection
        recorded, a report read), REJECT saying why when it could not be."""
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
