"""Delivers the webhook queue: signed POSTs, retries with backoff, order per address.

Each round, per endpoint, the dispatcher walks the pending rows in emission order. A row
whose address already has an earlier row waiting (not due yet, held by another instance,
or failed just now) is skipped, so one address's events reach the receiver in order while
other addresses go on. A receiver that cannot be reached pauses that endpoint with the same
backoff, instead of trying every row. A 2xx settles the row; anything else (or no answer in
`timeout`) schedules a retry: retry_base * 2**(attempts-1), at most retry_max, until the
event is max_age_days old, when it is marked failed (`webhooks replay` resends it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

import aiohttp

from proxy.feedback.events import EventRoutes, EventType
from proxy.feedback.signing import decode_secret, signature_headers
from proxy.metrics import Metrics
from proxy.settings import WebhookEndpoint, WebhookSettings
from proxy.store.webhook_queue import QueuedDelivery, WebhookQueue

__all__ = ["ErasureNotifier", "WebhookDispatcher", "backoff", "event_routes", "send_test"]

log = logging.getLogger(__name__)

_BATCH = 200
_PRUNE_EVERY = timedelta(hours=1)
EmailLookup = Callable[[str], Awaitable[str | None]]


def event_routes(settings: WebhookSettings) -> EventRoutes:
    """Which configured endpoint receives which event types."""
    return EventRoutes.build((e.name, e.events) for e in settings.endpoints)


class ErasureNotifier:
    """The rights desk's `ControllerNotifier`. The `erasure` event is already queued in the
    erasure's own transaction (Store.forget_hash); this says whether an endpoint receives
    it, so the request is marked notified only when the controller will hear of it."""

    def __init__(self, routes: EventRoutes) -> None:
        self._routes = routes

    async def notify(self, event: str, payload: Mapping[str, str]) -> bool:
        return bool(self._routes.targets(EventType.ERASURE))


def backoff(settings: WebhookSettings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2, ...)."""
    seconds = settings.retry_base * 2 ** min(attempts - 1, 32)
    return timedelta(seconds=min(seconds, settings.retry_max))


class _Unreachable(Exception):
    """The receiver could not be reached at all (connection refused, DNS, TLS)."""


class WebhookDispatcher:
    """A relay component: delivers pending rows of every configured endpoint."""

    def __init__(
        self,
        settings: WebhookSettings,
        queue: WebhookQueue,
        metrics: Metrics,
        lookup_email: EmailLookup,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._metrics = metrics
        self._lookup_email = lookup_email
        self._clock = clock
        self._keys = {
            e.name: decode_secret(e.secret.get_secret_value()) for e in settings.endpoints
        }
        self._paused: dict[str, tuple[datetime, int]] = {}  # endpoint -> (until, failures)
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._next_prune = clock()

    def wake(self) -> None:
        """Deliver now rather than at the next poll (after this process queued an event)."""
        self._wake.set()

    async def start(self) -> None:
        if not self._settings.endpoints:
            return
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout)
        )
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        """Let the delivery in progress finish (bounded by the timeout), then stop: a row
        cancelled mid-claim would wait for its lease to run out before anyone retries it."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                async with asyncio.timeout(self._settings.timeout + 1):
                    await asyncio.shield(self._task)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:  # a database outage must not end the loop
                log.exception("webhook round failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settings.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> None:
        """One round over every endpoint (public for the CLI and tests)."""
        pending = await self._queue.pending_counts()
        for endpoint in self._settings.endpoints:
            self._metrics.webhook_backlog.labels(endpoint.name).set(pending.get(endpoint.name, 0))
        now = self._clock()
        if now >= self._next_prune:
            self._next_prune = now + _PRUNE_EVERY
            pruned = await self._queue.prune(now - timedelta(days=self._settings.keep_days))
            if pruned:
                log.info("webhook queue: %d settled deliveries pruned", pruned)
        for endpoint in self._settings.endpoints:
            if self._stopping:
                return
            await self._drain(endpoint)

    async def _drain(self, endpoint: WebhookEndpoint) -> None:
        now = self._clock()
        paused = self._paused.get(endpoint.name)
        if paused is not None and paused[0] > now:
            return
        blocked: set[str] = set()
        for row in await self._queue.pending(endpoint.name, _BATCH):
            key = row.order_key
            if self._stopping:
                return
            if key in blocked:
                continue
            now = self._clock()
            held = row.locked_until is not None and row.locked_until > now
            if row.next_attempt_at > now or held:
                blocked.add(key)
                continue
            lease = timedelta(seconds=self._settings.timeout + 30)
            if not await self._queue.claim(row.id, now, lease):
                blocked.add(key)
                continue
            try:
                ok = await self._attempt(endpoint, row)
            except _Unreachable as exc:
                await self._failed(endpoint, row, str(exc))
                failures = (paused[1] if paused else 0) + 1
                self._paused[endpoint.name] = (
                    self._clock() + backoff(self._settings, failures),
                    failures,
                )
                return
            self._paused.pop(endpoint.name, None)
            paused = None
            if not ok:
                blocked.add(key)

    async def _attempt(self, endpoint: WebhookEndpoint, row: QueuedDelivery) -> bool:
        """POST the row; True when the receiver took it."""
        assert self._session is not None
        email = None
        if endpoint.include_address and row.event.address_hash is not None:
            email = await self._lookup_email(row.event.address_hash)
        body = row.event.payload(email)
        timestamp = int(self._clock().timestamp())
        headers = signature_headers(self._keys[endpoint.name], row.event.id, timestamp, body)
        try:
            async with self._session.post(endpoint.url, data=body, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientConnectionError, OSError) as exc:
            if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
                await self._failed(endpoint, row, type(exc).__name__)
                return False
            raise _Unreachable(type(exc).__name__) from None
        except TimeoutError:
            await self._failed(endpoint, row, "timeout")
            return False
        if 200 <= status < 300:
            await self._queue.delivered(row.id, self._clock(), row.attempts + 1)
            self._metrics.webhook_deliveries_total.labels(endpoint.name, "delivered").inc()
            log.info(
                "webhook delivered: endpoint=%s type=%s id=%s attempts=%d",
                endpoint.name,
                row.event.type.value,
                row.event.id,
                row.attempts + 1,
            )
            return True
        await self._failed(endpoint, row, f"HTTP {status}")
        return False

    async def _failed(self, endpoint: WebhookEndpoint, row: QueuedDelivery, error: str) -> None:
        attempts = row.attempts + 1
        now = self._clock()
        too_old = now - row.event.occurred_at > timedelta(days=self._settings.max_age_days)
        if too_old:
            await self._queue.give_up(row.id, now, attempts, error)
            self._metrics.webhook_deliveries_total.labels(endpoint.name, "failed").inc()
            log.warning(
                "webhook given up: endpoint=%s id=%s after %d attempts (%s)",
                endpoint.name,
                row.event.id,
                attempts,
                error,
            )
            return
        await self._queue.retry(row.id, attempts, now + backoff(self._settings, attempts), error)
        self._metrics.webhook_deliveries_total.labels(endpoint.name, "retry").inc()
        log.info(
            "webhook attempt failed: endpoint=%s id=%s attempt=%d (%s)",
            endpoint.name,
            row.event.id,
            attempts,
            error,
        )


async def send_test(endpoint: WebhookEndpoint, timeout: float) -> str:
    """POST one signed `test` event to `endpoint`; "HTTP <status>" or what went wrong."""
    now = datetime.now(UTC)
    msg_id = f"msg_test_{int(now.timestamp())}"
    body = json.dumps(
        {"type": "test", "timestamp": now.isoformat(), "data": {}}, separators=(",", ":")
    ).encode()
    key = decode_secret(endpoint.secret.get_secret_value())
    headers = signature_headers(key, msg_id, int(now.timestamp()), body)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(endpoint.url, data=body, headers=headers) as response,
        ):
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return f"not delivered: {type(exc).__name__} {exc}".strip()
