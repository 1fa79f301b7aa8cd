"""aiosmtpd handler: turns the session state into an `EnvelopeInfo`, calls the service, and
renders the reply it returns. No policy, no I/O of its own."""

from __future__ import annotations

import logging
from typing import Any

from proxy.metrics import Metrics
from proxy.model import SmtpReply
from proxy.service import EnvelopeInfo, RelayService
from proxy.smtp import replies
from proxy.smtp.admission import peer_address

__all__ = ["RelayHandler", "peer_ip"]

log = logging.getLogger(__name__)


def peer_ip(session: Any) -> str:
    """The client's IP address from an aiosmtpd session (`peer` is a socket address)."""
    return peer_address(session.peer)


class RelayHandler:
    """The hooks `RelaySMTP` calls for MAIL, RCPT and DATA."""

    def __init__(self, service: RelayService, metrics: Metrics) -> None:
        self._service = service
        self._metrics = metrics

    def _info(self, session: Any, envelope: Any) -> EnvelopeInfo:
        auth_user = session.auth_data if session.authenticated else None
        return EnvelopeInfo(
            queue_id=envelope.queue_id,
            peer=peer_ip(session),
            auth_user=auth_user if isinstance(auth_user, str) else None,
            mail_from=envelope.mail_from or "",
            smtputf8=bool(envelope.smtp_utf8),
            helo=session.host_name or "",
        )

    def _reply(self, reply: SmtpReply) -> str:
        self._metrics.smtp_replies_total.labels(replies.code_class(reply)).inc()
        return replies.render(reply)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        envelope.queue_id = self._service.new_queue_id()
        return self._reply(await self._service.check_sender(self._info(session, envelope)))

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        info = self._info(session, envelope)
        reply, decision = await self._service.check_recipient(info, address)
        envelope.decisions.append(decision)
        return self._reply(reply)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        info = self._info(session, envelope)
        envelope.finished = True
        reply = await self._service.deliver(info, envelope.content, tuple(envelope.decisions))
        return self._reply(reply)

    def transaction_ended(self, session: Any, envelope: Any) -> None:
        """Called when an envelope is dropped (RSET, new MAIL, disconnect) without DATA."""
        if envelope.queue_id and not envelope.finished and envelope.decisions:
            self._service.abandon(self._info(session, envelope), tuple(envelope.decisions))

    async def handle_exception(self, error: Exception) -> str:
        """Any unexpected fault: a retryable 451 that reveals nothing internal."""
        log.error("SMTP session error", exc_info=error)
        return self._reply(replies.local_error())
