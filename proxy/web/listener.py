"""A hardened listening socket for an aiohttp app: a connection cap, header and body read
timeouts, keep-alive limits and small header limits.

The web listener shares the process (file descriptors, memory, event loop) with SMTP, and the
unsubscribe pages face the internet, so nothing a web client does may grow without bound:
- at most `max_connections` open connections; one more is answered `503` and closed at once;
- a request's headers must be complete within `header_timeout` of the connection opening or
  of the previous response (aiohttp's keep-alive timer, armed when the connection opens: a slow
  client trickling headers is closed when it fires); the same limit ends idle keep-alive;
- a request body must arrive within `body_timeout` (`408` otherwise);
- at most `max_requests_per_connection` requests on one keep-alive connection: the response
  to the last one says `Connection: close`, so one client cannot hold a slot forever by
  pipelining fresh requests within the idle limit;
- request line and header fields at most 4 KB, at most 32 header fields, bodies as small as
  the routes need (WebDeps.max_body_bytes).
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

__all__ = [
    "LimitedSite",
    "ListenerLimits",
    "body_timeout_middleware",
    "requests_per_connection_middleware",
]

_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 30\r\n"
    b"Retry-After: 5\r\n"
    b"Connection: close\r\n\r\n"
    b"Too many connections, retry.\r\n"
)


@dataclass(frozen=True, slots=True)
class ListenerLimits:
    """The limits of one listener (settings.web; the body timeout is the app's, WebDeps)."""

    max_connections: int = 256
    header_timeout: float = 10.0
    max_requests_per_connection: int = 100
    max_field_size: int = 4096
    max_headers: int = 32


def body_timeout_middleware(timeout: float) -> Middleware:
    """Wait until the whole body has arrived, within `timeout`, before the handler runs;
    408 if late. Nothing is consumed: the handler reads the body as usual (urlencoded or
    multipart), from memory. Bodies are size-capped before this (limits_middleware)."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                await asyncio.wait_for(request.content.wait_eof(), timeout)
            except TimeoutError:
                late = web.Response(status=408, text="Request body too slow.\n")
                late.force_close()  # the rest of the body must not be read as a request
                return late
        return await handler(request)

    return read_body_in_time


def requests_per_connection_middleware(limit: int) -> Middleware:
    """Close a keep-alive connection after its `limit`-th response (`Connection: close`).

    Counts are kept per transport in a weak map, so a connection that goes away takes its
    count with it: memory stays bounded by the connection cap."""
    served: weakref.WeakKeyDictionary[asyncio.BaseTransport, int] = weakref.WeakKeyDictionary()

    @web.middleware
    async def close_after_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        transport = request.transport
        if transport is not None:
            count = served.get(transport, 0) + 1
            served[transport] = count
            if count >= limit:
                response.force_close()
        return response

    return close_after_limit


class _Busy(asyncio.Protocol):
    """Answers a connection over the cap with 503 and closes it (the descriptor is freed)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY_RESPONSE)
        transport.close()


class LimitedSite(web.BaseSite):
    """Like aiohttp's TCPSite, with at most `max_connections` connections open at a time."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        max_connections: int,
        *,
        sock: socket.socket | None = None,
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._sock = sock  # already bound by the supervisor (several workers share it)
        self._max_connections = max_connections
        self.refused = 0

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        assert self._server is not None
        sockets = getattr(self._server, "sockets", None) or ()
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        limit = self._max_connections

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= limit:
                self.refused += 1
                return _Busy()
            return server()

        loop = asyncio.get_running_loop()
        if self._sock is not None:
            self._server = await loop.create_server(protocol, sock=self._sock)
        else:
            self._server = await loop.create_server(
                protocol, self._host, self._port, backlog=self._backlog, reuse_address=True
            )
