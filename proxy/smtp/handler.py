"""The transaction hooks of `RelaySMTP`: turn the session state into an `EnvelopeInfo`, call
the service, count and hand back the typed reply it returns. No policy, no I/O of its own."""

from __future__ import annotations

import logging
from typing import Any

from proxy import replies
from proxy.metrics import Metrics
from proxy.replies import SmtpReply
from proxy.service import EnvelopeInfo, RelayService
from proxy.smtp.admission import peer_address

__all__ = ["RelayHandler", "peer_ip"]

log = logging.getLogger(__name__)


def peer_ip(session: Any) -> str:
    """The client's IP address from an aiosmtpd session (`peer` is a socket address)."""
    return peer_address(session.peer)


class RelayHandler:
    """The hooks `RelaySMTP` calls for MAIL, RCPT and DATA (`proxy.smtp.server.Transactions`).

    They return the service's `SmtpReply` as is: the server decides from `reply.is_success`
    and writes `reply.line`, so no reply is ever parsed back from its text.
    """

    def __dir__(self) -> list[str]:
        """Only aiosmtpd's `handle_*` hooks it defines: aiosmtpd scans `dir(handler)`, and
        getattr's every name `inspect.getmembers(handler)` lists, on each new connection
        (for hooks and AUTH methods); this handler has no AUTH methods."""
        return [name for name in type(self).__dict__ if name.startswith("handle_")]

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

    def _counted(self, reply: SmtpReply) -> SmtpReply:
        self._metrics.smtp_replies_total.labels(reply.code_class).inc()
        return reply

    async def mail(self, session: Any, envelope: Any) -> SmtpReply:
        envelope.queue_id = self._service.new_queue_id()
        return self._counted(await self._service.check_sender(self._info(session, envelope)))

    async def rcpt(self, session: Any, envelope: Any, address: str) -> SmtpReply:
        info = self._info(session, envelope)
        reply, decision = await self._service.check_recipient(info, address)
        envelope.decisions.append(decision)
        return self._counted(reply)

    async def data(self, session: Any, envelope: Any) -> SmtpReply:
        info = self._info(session, envelope)
        envelope.finished = True
        reply = await self._service.deliver(info, envelope.content, tuple(envelope.decisions))
        return self._counted(reply)

    def transaction_ended(self, session: Any, envelope: Any) -> None:
        """Called when an envelope is dropped (RSET, new MAIL, disconnect) without DATA."""
        if envelope.queue_id and not envelope.finished and envelope.decisions:
            self._service.abandon(self._info(session, envelope), tuple(envelope.decisions))

    async def handle_exception(self, error: Exception) -> str:
        """Any unexpected fault: a retryable 451 that reveals nothing internal (aiosmtpd calls
        this hook and writes the line it returns)."""
        log.error("SMTP session error", exc_info=error)
        return self._counted(replies.local_error()).line
