"""Operations endpoints: /healthz (alive), /readyz (dependencies reachable), /metrics."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from proxy.web.deps import ReadinessCheck, WebDeps

__all__ = ["OpsHandlers"]

log = logging.getLogger(__name__)


class OpsHandlers:
    """Request handlers for probes and scrapes, bound to the injected dependencies."""

    def __init__(self, deps: WebDeps) -> None:
        self._deps = deps

    async def healthz(self, request: web.Request) -> web.Response:
        """The process answers: nothing else is checked, so a database outage never restarts it."""
        return web.json_response({"status": "ok"})

    async def _run(self, check: ReadinessCheck) -> str:
        try:
            async with asyncio.timeout(self._deps.readiness_timeout):
                await check.probe()
        except TimeoutError:
            log.warning("readiness check %s timed out", check.name)
            return "timeout"
        except Exception as exc:
            # Only the exception's class goes out: its text may hold a host name or a DSN.
            log.warning("readiness check %s failed: %r", check.name, exc)
            return f"failed: {type(exc).__name__}"
        return "ok"

    async def readyz(self, request: web.Request) -> web.Response:
        """Run every check concurrently; 503 naming the failed ones, else 200."""
        checks = self._deps.readiness
        results = await asyncio.gather(*(self._run(check) for check in checks))
        by_name = {check.name: result for check, result in zip(checks, results, strict=True)}
        failed = sorted(name for name, result in by_name.items() if result != "ok")
        body = {"status": "fail" if failed else "ok", "checks": by_name, "failed": failed}
        return web.json_response(body, status=503 if failed else 200)

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus scrape of the relay's own registry.

        The content type is the library's name for what `generate_latest` writes (text format
        0.0.4, legacy names), as its own exposition server sends it. Not CONTENT_TYPE_LATEST:
        since prometheus-client 0.23 that announces text format 1.0.0."""
        return web.Response(
            body=self._deps.render_metrics(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
        )
