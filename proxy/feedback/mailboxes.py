"""The relay's feedback mailboxes: the VERP return path and the complaints address.

Both take mail from any network (like the unsubscribe mailbox) and go nowhere else. A
return path whose token does not verify is refused at RCPT, so a forged bounce is never
even read. A bounce is read (bounded, off the event loop) and applied only to the address
hash its return path names: a DSN block about another address is ignored. A complaint
(ARF) must carry one of the relay's signed tokens in the returned copy (its return path or
its List-Unsubscribe link); the feedback-report's own address fields are not believed.
"""

from __future__ import annotations

import asyncio
import logging
import re

from proxy.errors import TokenError
from proxy.feedback.recorder import FeedbackRecorder
from proxy.feedback.reports import DeliveryStatus, parse_bounce, parse_complaint
from proxy.feedback.returnpath import TOKEN_LENGTH, ReturnPath
from proxy.model import Action, Finding, RecipientDecision, Stage
from proxy.store import Store
from proxy.tokens import TokenSigner

__all__ = ["FeedbackMailboxes"]

log = logging.getLogger(__name__)

_RULE = "feedback"


def _refused(address: str, stage: Stage, code: str, reason: str) -> RecipientDecision:
    finding = Finding(rule=_RULE, action=Action.REJECT, reason=reason, reason_code=code)
    return RecipientDecision(address, Action.REJECT, stage, findings=(finding,))


def _consumed(address: str, outcome: str) -> RecipientDecision:
    return RecipientDecision(
        address, Action.FORWARD, Stage.DATA, facts={"local": "yes", "feedback": outcome}
    )


class FeedbackMailboxes:
    def __init__(
        self,
        *,
        return_path: ReturnPath,
        complaints_local_part: str,
        recorder: FeedbackRecorder,
        store: Store,
        tokens: TokenSigner,
        max_report_bytes: int,
    ) -> None:
        self.return_path = return_path
        self._complaints = f"{complaints_local_part}@{return_path.domain}".lower()
        self._recorder = recorder
        self._store = store
        self._tokens = tokens
        self._max_bytes = max_report_bytes
        self._return_paths = re.compile(
            re.escape(return_path.local_part)
            + rf"\+[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}@"
            + re.escape(return_path.domain),
            re.IGNORECASE,
        )

    def is_mailbox(self, address: str) -> bool:
        return address.lower() == self._complaints or self.return_path.is_mailbox(address)

    def at_rcpt(self, address: str) -> RecipientDecision:
        if self.return_path.is_mailbox(address) and self.return_path.verify(address) is None:
            log.info("bounce refused: return path token does not verify")
            return _refused(
                address, Stage.RCPT, "feedback.bad-token", "no such return path (bad token)"
            )
        return RecipientDecision(address, Action.FORWARD, Stage.RCPT, facts={"local": "yes"})

    async def consume(self, message: bytes, address: str) -> RecipientDecision:
        if address.lower() == self._complaints:
            return await self._complaint(message, address)
        return await self._bounce(message, address)

    def _campaign(self, text: str, address_hash: str) -> str | None:
        """The campaign of the returned copy's unsubscribe token, if it names the same hash."""
        try:
            token = self._tokens.find(text)
        except TokenError:
            return None
        return token.campaign if token.address_hash == address_hash else None

    async def _bounce(self, message: bytes, address: str) -> RecipientDecision:
        address_hash = self.return_path.verify(address)
        if address_hash is None:  # checked at RCPT; a reload of keys could change it
            return _refused(address, Stage.DATA, "feedback.bad-token", "no such return path")
        statuses, text = await asyncio.to_thread(parse_bounce, message, self._max_bytes)
        status = self._status_for(statuses, address_hash)
        if status is None:
            log.info("bounce ignored: no failure for the address its return path names")
            return _consumed(address, "ignored")
        await self._recorder.bounce(
            address_hash,
            status.status,
            source="dsn",
            campaign=self._campaign(text, address_hash),
            detail=status.diagnostic,
        )
        return _consumed(address, "bounce")

    def _status_for(
        self, statuses: list[DeliveryStatus], address_hash: str
    ) -> DeliveryStatus | None:
        """The failure that concerns the named address: a block naming it, or (when no block
        names any address, as in non-standard bounces) the report's first failure."""
        failed = [s for s in statuses if s.action == "failed"]
        named = [s for s in failed if s.recipient is not None]
        if named:
            mine = [s for s in named if self._store.address_hash(s.recipient or "") == address_hash]
            return mine[0] if mine else None
        return failed[0] if failed else None

    async def _complaint(self, message: bytes, address: str) -> RecipientDecision:
        report = await asyncio.to_thread(parse_complaint, message, self._max_bytes)
        if report is None:
            return _refused(
                address, Stage.DATA, "feedback.not-arf", "not an ARF feedback report (RFC 5965)"
            )
        address_hash = self._named_hash(report.original_headers)
        if address_hash is None:
            log.info("complaint ignored: no token of this relay in the returned copy")
            return _refused(
                address,
                Stage.DATA,
                "feedback.no-token",
                "the report's copy carries no return path or unsubscribe link of this relay",
            )
        await self._recorder.complaint(
            address_hash,
            report.feedback_type,
            source="arf",
            campaign=self._campaign(report.original_headers, address_hash),
        )
        return _consumed(address, "complaint")

    def _named_hash(self, headers: str) -> str | None:
        for match in self._return_paths.finditer(headers):
            address_hash = self.return_path.verify(match.group())
            if address_hash is not None:
                return address_hash
        try:
            return self._tokens.find(headers).address_hash
        except TokenError:
            return None
