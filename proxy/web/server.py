"""The web listener: builds the aiohttp application and runs it in the relay's event loop."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from aiohttp import web

from proxy.web.deps import WebDeps
from proxy.web.middleware import LIMITED_ROUTE_PREFIX, add_security_headers, limits_middleware
from proxy.web.ops import OpsHandlers
from proxy.web.ratelimit import RateLimiter
from proxy.web.rights import RightsHandlers
from proxy.web.unsubscribe import UnsubscribeHandlers, token_if_valid

__all__ = ["WebServer", "build_web_app", "unsubscribe_path_prefix"]

log = logging.getLogger(__name__)


def unsubscribe_path_prefix(public_url: str) -> str:
    """The path under which /u/<token> is served: public_url's own path, e.g. "/relay".

    Links are built as public_url + "/u/<token>", so a public URL with a path keeps working
    behind a reverse proxy that forwards the path unchanged.
    """
    return urlsplit(public_url).path.rstrip("/")


def build_web_app(deps: WebDeps) -> web.Application:
    """Routes, limits and headers; no listening socket (see WebServer)."""
    app = web.Application(
        client_max_size=deps.max_body_bytes,
        middlewares=[
            limits_middleware(
                RateLimiter(deps.rate_limit_per_minute),
                deps.max_body_bytes,
                deps.trusted_proxies,
                lambda raw: token_if_valid(deps.tokens, raw) is not None,
            )
        ],
    )
    app.on_response_prepare.append(add_security_headers)
    unsubscribe = UnsubscribeHandlers(deps)
    ops = OpsHandlers(deps)
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
    app.router.add_get("/healthz", ops.healthz, name="healthz")
    app.router.add_get("/readyz", ops.readyz, name="readyz")
    app.router.add_get("/metrics", ops.metrics, name="metrics")
    return app


class WebServer:
    """Serves the app on one TCP address, inside the caller's running event loop."""

    def __init__(self, app: web.Application, *, shutdown_timeout: float = 5.0) -> None:
        # No access log: request paths carry unsubscribe tokens, which identify an objection.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False
        )
        self._site: web.BaseSite | None = None

    async def start(self, host: str, port: int, sock: socket.socket | None = None) -> int:
        """Listen on host:port (0 picks a free port), or on `sock` already bound by the
        supervisor (several workers), and return the bound port."""
        await self._runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(self._runner, sock)
        else:
            site = web.TCPSite(self._runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self._site = site
        bound = int(self._runner.addresses[0][1])
        log.info("web listener on %s:%d", host, bound)
        return bound

    async def stop(self) -> None:
        """Stop accepting, let running requests finish (up to the timeout), then close."""
        if self._site is None:
            return
        self._site = None
        await self._runner.cleanup()
