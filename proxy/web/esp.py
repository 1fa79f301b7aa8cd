"""POST /feedback/<provider>: signed ESP event webhooks (SES via SNS, SendGrid, Mailgun,
Postmark). 200 when applied, 401 when the signature or secret does not verify (nothing is
recorded), 413 beyond the size limit, 503 when the database is down (providers retry)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from proxy.errors import EspError, StoreUnavailable

__all__ = ["ESP_ROUTE_PREFIX", "MAX_EVENT_BODY", "EspHandlers", "EspReceiverView"]

log = logging.getLogger(__name__)

ESP_ROUTE_PREFIX = "feedback"  # route names; these routes take larger bodies
MAX_EVENT_BODY = 1_048_576  # SendGrid batches events; a megabyte is thousands of them


class EspReceiverView(Protocol):
    """What the handlers call (proxy.feedback.providers.EspReceiver)."""

    @property
    def providers(self) -> list[str]: ...

    async def ses(self, body: bytes) -> int: ...

    async def sendgrid(self, body: bytes, signature: str, timestamp: str) -> int: ...

    async def mailgun(self, body: bytes) -> int: ...

    async def postmark(self, body: bytes, authorization: str) -> int: ...


async def _body(request: web.Request) -> bytes:
    body = await request.content.read(MAX_EVENT_BODY + 1)
    if len(body) > MAX_EVENT_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_EVENT_BODY, actual_size=len(body))
    return body


class EspHandlers:
    def __init__(self, receiver: EspReceiverView) -> None:
        self._receiver = receiver

    def routes(self) -> list[tuple[str, Callable[[web.Request], Awaitable[web.Response]]]]:
        handlers = {
            "ses": self.ses,
            "sendgrid": self.sendgrid,
            "mailgun": self.mailgun,
            "postmark": self.postmark,
        }
        return [(name, handlers[name]) for name in self._receiver.providers]

    async def _run(self, provider: str, work: Awaitable[int]) -> web.Response:
        try:
            count = await work
        except EspError as exc:
            log.warning("%s event refused: %s", provider, exc)
            return web.Response(status=401, text=f"refused: {exc}\n")
        except StoreUnavailable as exc:
            log.warning("%s event not recorded: %s", provider, exc)
            return web.Response(status=503, text="try again later\n")
        log.info("%s events applied: %d", provider, count)
        return web.Response(status=200, text=f"{count} events applied\n")

    async def ses(self, request: web.Request) -> web.Response:
        return await self._run("ses", self._receiver.ses(await _body(request)))

    async def sendgrid(self, request: web.Request) -> web.Response:
        body = await _body(request)
        signature = request.headers.get("X-Twilio-Email-Event-Webhook-Signature", "")
        timestamp = request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", "")
        return await self._run("sendgrid", self._receiver.sendgrid(body, signature, timestamp))

    async def mailgun(self, request: web.Request) -> web.Response:
        return await self._run("mailgun", self._receiver.mailgun(await _body(request)))

    async def postmark(self, request: web.Request) -> web.Response:
        body = await _body(request)
        authorization = request.headers.get("Authorization", "")
        return await self._run("postmark", self._receiver.postmark(body, authorization))
