"""Carries out the requests a recipient makes from the unsubscribe page, and records them.

Every request is written to `rights_requests` when received, then marked fulfilled with what
was actually done (derived from the result: the upstream's reply for a copy, the rows
deleted for an erasure). A request that fails half-way stays open, with its due date, in
`prospect-relay requests` and `report`: the controller sees what is owed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from proxy.forward import Forwarder
from proxy.policy.derive import months_before
from proxy.policy.policy_file import Controller, Policy
from proxy.rights.explain import Explanation, explain
from proxy.rights.mail import compose_copy
from proxy.store import Store
from proxy.store.rights import RequestKind, RightsRegister
from proxy.tokens import UnsubscribeToken

__all__ = [
    "ControllerNotifier",
    "CopyOutcome",
    "ErasureResult",
    "RightsDesk",
]

log = logging.getLogger(__name__)

ERASURE_EVENT = "rights.erasure"
RESPONSE_MONTHS = 1  # GDPR art. 12(3): answer within one month of receipt


class ControllerNotifier(Protocol):
    """Tells the controller about a request (the outbound webhooks); True when queued."""

    async def notify(self, event: str, payload: Mapping[str, str]) -> bool: ...


class CopyOutcome(StrEnum):
    SENT = "sent"  # the upstream (or outbox) accepted the copy
    RECENT = "recent"  # one was sent within the last `copy_interval`: not sent again
    NOTHING = "nothing"  # no register entry: no data, and no address to send it to
    FAILED = "failed"  # not accepted; the request stays open


@dataclass(frozen=True, slots=True)
class CopyResult:
    outcome: CopyOutcome
    sent_at: datetime | None = None  # for RECENT: when the earlier copy went


@dataclass(frozen=True, slots=True)
class ErasureResult:
    contact_deleted: bool
    controller_notified: bool


class RightsDesk:
    """The service behind the why page, the copy button and the erase button."""

    def __init__(
        self,
        *,
        register: RightsRegister,
        store: Store,
        policy: Callable[[], Policy],
        forwarder: Forwarder,
        from_address: str,
        hostname: str,
        audit_retention_days: int,
        notifier: ControllerNotifier | None = None,
        copy_interval: timedelta = timedelta(hours=24),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._register = register
        self._store = store
        self._policy = policy
        self._forwarder = forwarder
        self._from = from_address
        self._hostname = hostname
        self.audit_retention_days = audit_retention_days
        self._notifier = notifier
        self._copy_interval = copy_interval
        self._clock = clock

    def controller(self, token: UnsubscribeToken) -> Controller | None:
        """The token's controller in the current policy (None once removed from it)."""
        return self._policy().controllers.get(token.controller)

    async def explain(self, token: UnsubscribeToken) -> Explanation:
        """Read-only: the send record of the token's campaign and the register entry."""
        contact = await self._register.contact(token.address_hash)
        sent = await self._register.sent_record(token.address_hash, token.campaign)
        policy = self._policy()
        preset = policy.campaigns.get(token.campaign) if token.campaign else None
        return explain(
            contact,
            sent,
            policy.retention,
            campaign_source=preset.source if preset is not None else None,
        )

    async def _open(self, kind: RequestKind, token: UnsubscribeToken, now: datetime) -> int:
        return await self._register.open_request(
            kind,
            address_hash=token.address_hash,
            controller=token.controller,
            campaign=token.campaign,
            language=token.language,
            now=now,
            due_on=months_before(now.date(), -RESPONSE_MONTHS),
        )

    async def send_copy(self, token: UnsubscribeToken, sender: str) -> CopyResult:
        """Email the register's data about the token's address to that address (art. 15).

        At most one copy per `copy_interval`: a repeated click, or someone else holding the
        link, cannot flood the mailbox; the person already has the answer.
        """
        now = self._clock()
        earlier = await self._register.last_fulfilled(token.address_hash, RequestKind.ACCESS)
        if (
            earlier is not None
            and earlier.fulfilled_at is not None
            and (earlier.outcome or "").startswith(CopyOutcome.SENT.value)
            and now - earlier.fulfilled_at < self._copy_interval
        ):
            return CopyResult(CopyOutcome.RECENT, earlier.fulfilled_at)
        request_id = await self._open(RequestKind.ACCESS, token, now)
        held = await self._register.held_data(token.address_hash)
        if held.contact is None:
            await self._register.fulfil(request_id, "nothing held: no register entry", now)
            log.info("rights: access request %d: no register entry", request_id)
            return CopyResult(CopyOutcome.NOTHING)
        mail = compose_copy(
            held,
            language=token.language,
            sender=sender,
            from_address=self._from,
            requested=now.date(),
            hostname=self._hostname,
        )
        result = await self._forwarder.forward(
            mail.mail_from, [mail.recipient], mail.message, queue_id=f"rights{request_id}"
        )
        if mail.recipient not in result.accepted:
            reply = result.refused.get(mail.recipient, result.reply)
            await self._register.note(request_id, f"not delivered: {reply}")
            log.warning("rights: access request %d: copy not delivered: %s", request_id, reply)
            return CopyResult(CopyOutcome.FAILED)
        await self._register.fulfil(
            request_id, f"{CopyOutcome.SENT.value} via {result.upstream}: {result.reply}", now
        )
        log.info("rights: access request %d: copy sent via %s", request_id, result.upstream)
        return CopyResult(CopyOutcome.SENT, now)

    async def erase(self, token: UnsubscribeToken) -> ErasureResult:
        """The same erasure as `prospect-relay forget` (the suppression hash stays)."""
        now = self._clock()
        request_id = await self._open(RequestKind.ERASURE, token, now)
        result = await self._store.forget_hash(token.address_hash)
        outcome = (
            f"erased: register entry {'deleted' if result.contact_deleted else 'absent'}, "
            f"send records {'deleted' if result.sends_deleted else 'absent'}, "
            f"suppression {'added' if result.suppression_created else 'kept'}"
        )
        await self._register.fulfil(request_id, outcome, now)
        log.info("rights: erasure request %d: %s", request_id, outcome)
        notified = await self._notify(request_id, token, now)
        return ErasureResult(result.contact_deleted, notified)

    async def _notify(self, request_id: int, token: UnsubscribeToken, now: datetime) -> bool:
        if self._notifier is None:
            log.info(
                "rights: erasure request %d: no controller notifier configured, "
                "the controller learns of it from `prospect-relay requests`",
                request_id,
            )
            return False
        payload = {
            "request_id": str(request_id),
            "controller": token.controller,
            "campaign": token.campaign or "",
            "address_hash": token.address_hash,
            "requested_at": now.isoformat(),
        }
        try:
            queued = await self._notifier.notify(ERASURE_EVENT, payload)
        except Exception:
            log.exception("rights: erasure request %d: controller notification failed", request_id)
            return False
        if queued:
            await self._register.mark_notified(request_id, now)
        return queued
