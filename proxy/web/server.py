"""The web listeners: build the aiohttp applications and run them in the relay's event loop.

Two applications: the public one (unsubscribe pages, /healthz) and the operations one
(/healthz, /readyz, /metrics), served on a separate listener (loopback by default), so
readiness details and metrics are not public.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from aiohttp import web

from proxy.web.deps import WebDeps
from proxy.web.esp import ESP_ROUTE_PREFIX, EspHandlers
from proxy.web.listener import (
    LimitedSite,
    ListenerLimits,
    body_timeout_middleware,
    requests_per_connection_middleware,
)
from proxy.web.middleware import LIMITED_ROUTE_PREFIX, add_security_headers, limits_middleware
from proxy.web.ops import OpsHandlers
from proxy.web.ratelimit import RateLimiter
from proxy.web.rights import RightsHandlers
from proxy.web.unsubscribe import UnsubscribeHandlers, token_if_valid

__all__ = ["WebServer", "build_ops_app", "build_web_app", "unsubscribe_path_prefix"]


def unsubscribe_path_prefix(public_url: str) -> str:
    """The path under which /u/<token> is served: public_url's own path, e.g. "/relay".

    Links are built as public_url + "/u/<token>", so a public URL with a path keeps working
    behind a reverse proxy that forwards the path unchanged.
    """
    return urlsplit(public_url).path.rstrip("/")


def build_web_app(deps: WebDeps) -> web.Application:
    """The public app: routes, limits and headers; no listening socket (see WebServer)."""
    app = web.Application(
        client_max_size=deps.max_body_bytes,
        middlewares=[
            limits_middleware(
                RateLimiter(deps.rate_limit_per_minute),
                deps.max_body_bytes,
                deps.trusted_proxies,
                lambda raw: token_if_valid(deps.tokens, raw) is not None,
            ),
            body_timeout_middleware(deps.body_timeout),
        ],
    )
    app.on_response_prepare.append(add_security_headers)
    unsubscribe = UnsubscribeHandlers(deps)
    prefix = unsubscribe_path_prefix(deps.public_url)
    app.router.add_get(f"{prefix}/u/", unsubscribe.bad_token, name=f"{LIMITED_ROUTE_PREFIX}-empty")
    app.router.add_post(
        f"{prefix}/u/", unsubscribe.bad_token, name=f"{LIMITED_ROUTE_PREFIX}-empty-post"
    )
    app.router.add_get(
        f"{prefix}/u/{{token}}", unsubscribe.show, name=f"{LIMITED_ROUTE_PREFIX}-show"
    )
    app.router.add_post(
        f"{prefix}/u/{{token}}", unsubscribe.submit, name=f"{LIMITED_ROUTE_PREFIX}-submit"
    )
    if deps.rights is not None:
        rights = RightsHandlers(deps, deps.rights)
        for method, page, handler in (
            ("GET", "why", rights.why),
            ("POST", "copy", rights.copy),
            ("GET", "erase", rights.erase_confirm),
            ("POST", "erase", rights.erase),
        ):
            app.router.add_route(
                method,
                f"{prefix}/u/{{token}}/{page}",
                handler,
                name=f"{LIMITED_ROUTE_PREFIX}-rights-{page}-{method.lower()}",
            )
    if deps.esp is not None:
        for provider, esp_handler in EspHandlers(deps.esp).routes():
            app.router.add_post(
                f"/feedback/{provider}", esp_handler, name=f"{ESP_ROUTE_PREFIX}-{provider}"
            )
    app.router.add_get("/healthz", OpsHandlers(deps).healthz, name="healthz")
    return app


def build_ops_app(deps: WebDeps) -> web.Application:
    """The operations app: probes and metrics, for the loopback (or private) listener."""
    app = web.Application(
        client_max_size=deps.max_body_bytes,
        middlewares=[body_timeout_middleware(deps.body_timeout)],
    )
    app.on_response_prepare.append(add_security_headers)
    ops = OpsHandlers(deps)
    app.router.add_get("/healthz", ops.healthz, name="healthz")
    app.router.add_get("/readyz", ops.readyz, name="readyz")
    app.router.add_get("/metrics", ops.metrics, name="metrics")
    return app


class WebServer:
    """Serves the app on one TCP address, inside the caller's running event loop, within
    the limits of proxy/web/listener.py."""

    def __init__(
        self,
        app: web.Application,
        *,
        limits: ListenerLimits | None = None,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self._limits = limits = limits or ListenerLimits()
        # Outermost, so every answer counts (a 429 or 408 too).
        app.middlewares.insert(
            0, requests_per_connection_middleware(limits.max_requests_per_connection)
        )
        # No access log: request paths carry unsubscribe tokens, which identify an objection.
        # aiohttp's keep-alive timer runs from the connection's start (and from each response's
        # end) until a request's headers are in: it is the header timeout and the idle limit.
        self._runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=shutdown_timeout,
            handle_signals=False,
            keepalive_timeout=limits.header_timeout,
            max_line_size=limits.max_field_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
            lingering_time=1.0,
        )
        self._site: LimitedSite | None = None

    async def start(self, host: str, port: int, sock: socket.socket | None = None) -> int:
        """Listen on host:port (0 picks a free port), or on `sock` already bound by the
        supervisor (several workers), and return the bound port."""
        await self._runner.setup()
        site = LimitedSite(self._runner, host, port, self._limits.max_connections, sock=sock)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self._site = site
        return site.port

    async def stop(self) -> None:
        """Stop accepting, let running requests finish (up to the timeout), then close."""
        if self._site is None:
            return
        self._site = None
        await self._runner.cleanup()
