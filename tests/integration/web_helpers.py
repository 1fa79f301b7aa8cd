"""The public and operations web apps on real listeners, over a real store: `start_web` and
the `Web` handle the web tests drive them through (tokens, suppressions, switchable probes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date
from ipaddress import IPv4Network
from pathlib import Path

import aiohttp

from proxy.metrics import Metrics
from proxy.model import Suppression, SuppressionOrigin
from proxy.policy.policy_file import Policy
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine, upgrade
from proxy.tokens import TokenSigner, UnsubscribeToken
from proxy.web import ReadinessCheck, WebDeps, WebServer, build_ops_app, build_web_app

KEY = b"k" * 32
OLD_KEY = b"o" * 32
HASH_KEY = b"h" * 32
ADDRESS = "marie.curie@example.fr"
MAX_AGE_DAYS = 30


class StoreUnsubscriber:
    """The lead's wiring in miniature: suppression in the real store, plus a counter."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.store = store
        self.metrics = metrics

    async def record(self, token: UnsubscribeToken, origin: SuppressionOrigin) -> None:
        await self.store.add_suppression(
            address_hash=token.address_hash, scope=token.scope, origin=origin
        )
        self.metrics.unsubscribes_total.labels(origin=origin.value).inc()
        self.metrics.suppression_entries.set(await self.store.suppression_count())

    async def is_recorded(self, token: UnsubscribeToken) -> bool:
        return await self.store.has_address_suppression(token.address_hash, token.scope)


POLICY = Policy.model_validate(
    {
        "controllers": {
            "acme": {
                "legal_name": "ACME Industrie SAS",
                "postal_address": "1 rue de la Paix, 75002 Paris",
                "domains": ["acme.example"],
                "privacy_url": "https://acme.example/p",
            }
        }
    }
)


@dataclass
class Checks:
    """Readiness probes whose health a test can switch."""

    failing: set[str] = field(default_factory=set)
    hanging: set[str] = field(default_factory=set)

    def probe(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if name in self.hanging:
                await asyncio.sleep(3600)
            if name in self.failing:
                raise ConnectionRefusedError("secret-host.internal:5432 refused")

        return run


@dataclass
class Web:
    base: str
    ops: str  # the operations listener: /readyz, /metrics
    deps: WebDeps
    http: aiohttp.ClientSession
    store: Store
    signer: TokenSigner
    checks: Checks

    def token(self, **changes: object) -> str:
        claims = UnsubscribeToken(
            address_hash=self.store.address_hash(ADDRESS),
            scope="controller:acme",
            controller="acme",
            language="fr",
            issued=date.today(),
            campaign="Printemps 2026",
        )
        return self.signer.sign(replace(claims, **changes))  # type: ignore[arg-type]

    async def suppressed(self) -> list[Suppression]:
        return await self.store.is_suppressed(ADDRESS)


async def start_web(
    tmp_path: Path,
    *,
    rate: int = 1000,
    public_url: str = "http://127.0.0.1",
    migrate: bool = True,
    trusted: tuple[IPv4Network, ...] = (),
) -> AsyncIterator[Web]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    if migrate:
        await upgrade(url)
    engine = create_engine(DatabaseSettings(url=url))
    store = Store(engine, HASH_KEY)
    metrics = Metrics()
    checks = Checks()
    deps = WebDeps(
        tokens=TokenSigner([KEY, OLD_KEY], max_age_days=MAX_AGE_DAYS),
        unsubscriber=StoreUnsubscriber(store, metrics),
        policy=lambda: POLICY,
        readiness=(
            ReadinessCheck("database", store.ping),
            ReadinessCheck("policy", checks.probe("policy")),
            ReadinessCheck("upstream", checks.probe("upstream")),
        ),
        render_metrics=metrics.render,
        public_url=public_url,
        rate_limit_per_minute=rate,
        readiness_timeout=0.2,
        trusted_proxies=trusted,
    )
    server = WebServer(build_web_app(deps))
    port = await server.start("127.0.0.1", 0)
    ops = WebServer(build_ops_app(deps))
    ops_port = await ops.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:
        yield Web(
            base=f"http://127.0.0.1:{port}",
            ops=f"http://127.0.0.1:{ops_port}",
            deps=deps,
            http=http,
            store=store,
            signer=TokenSigner([KEY], max_age_days=MAX_AGE_DAYS),
            checks=checks,
        )
    await server.stop()
    await ops.stop()
    await engine.dispose()


ONE_CLICK = {"List-Unsubscribe": "One-Click"}
