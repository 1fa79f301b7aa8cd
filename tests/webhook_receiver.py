"""A real HTTP receiver of the relay's outbound webhooks, for end-to-end tests.

It verifies each request's Standard Webhooks signature, records what arrived, and can be
told to refuse the first attempts of an event (to make the relay retry).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from proxy.feedback.signing import decode_secret, verify
from tests.waiting import wait_until

__all__ = ["Hook", "WebhookReceiver", "new_secret"]


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Hook:
    id: str
    type: str
    data: dict[str, Any]


@dataclass
class WebhookReceiver:
    port: int
    secret: str
    received: list[Hook] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    refuse_first: dict[str, int] = field(default_factory=dict)  # event type -> 503 count
    bad_signatures: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        msg_id = request.headers["webhook-id"]
        timestamp = int(request.headers["webhook-timestamp"])
        key = decode_secret(self.secret)
        if not verify(key, msg_id, timestamp, body, request.headers["webhook-signature"]):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.attempts[msg_id] = self.attempts.get(msg_id, 0) + 1
        payload = json.loads(body)
        if self.refuse_first.get(payload["type"], 0) > 0:
            self.refuse_first[payload["type"]] -= 1
            return web.Response(status=503)
        self.received.append(Hook(msg_id, payload["type"], payload["data"]))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int) -> list[Hook]:
        """Until `count` events arrived (or fail with what did)."""
        await wait_until(
            lambda: len(self.received) >= count,
            f"{count} webhook deliveries",
            detail=lambda: self.received,
        )
        return self.received
