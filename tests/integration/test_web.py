"""The web listener over real sockets: unsubscribe endpoints, bad tokens, limits, probes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from ipaddress import IPv4Network
from pathlib import Path

import aiohttp
import pytest

from proxy.metrics import Metrics
from proxy.model import SuppressionOrigin
from proxy.settings import DatabaseSettings
from proxy.store import Store, create_engine
from proxy.tokens import TokenSigner
from proxy.web import ReadinessCheck, WebDeps, WebServer, build_ops_app
from proxy.web.i18n import STRINGS
from proxy.web.pages import BAD_TOKEN_PAGE
from tests.integration.web_helpers import (
    HASH_KEY,
    KEY,
    MAX_AGE_DAYS,
    OLD_KEY,
    ONE_CLICK,
    POLICY,
    StoreUnsubscriber,
    Web,
    start_web,
)

# -- the page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected_lang", "button"),
    [
        ("fr", "fr", "Me désabonner"),
        ("en", "en", "Unsubscribe"),
        ("de", "de", "Abmelden"),
        ("fr-CA", "fr", "Me désabonner"),
        ("pt", "en", "Unsubscribe"),
    ],
)
async def test_get_shows_page_in_token_language_and_never_unsubscribes(
    web: Web, language: str, expected_lang: str, button: str
) -> None:
    token = web.token(language=language)
    for method in ("GET", "HEAD", "GET"):
        async with web.http.request(method, f"{web.base}/u/{token}") as response:
            assert response.status == 200
            body = await response.text()
    async with web.http.get(f"{web.base}/u/{token}") as response:
        body = await response.text()
        assert response.content_type == "text/html"
    assert f'<html lang="{expected_lang}">' in body
    assert f">{button}</button>" in body
    assert "ACME Industrie SAS" in body
    assert "Printemps 2026" in body
    assert '<meta name="viewport"' in body
    assert "<script" not in body and "http://" not in body.replace("https://acme.example/p", "")
    assert await web.suppressed() == []


async def test_page_escapes_token_text_and_handles_unknown_controller(web: Web) -> None:
    token = web.token(controller="gone", campaign="<script>alert(1)</script>", language="en")
    async with web.http.get(f"{web.base}/u/{token}") as response:
        body = await response.text()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "all commercial messages from the sender" in body


async def test_global_scope_is_described_as_everything_sent_through_the_service(
    web: Web,
) -> None:
    token = web.token(scope="global", language="en", campaign=None)
    async with web.http.get(f"{web.base}/u/{token}") as response:
        body = await response.text()
    assert "all commercial messages sent through this service" in body
    assert "Message received as part of" not in body


async def test_security_headers_on_pages_and_errors(web: Web) -> None:
    for path in (f"/u/{web.token()}", "/u/nonsense", "/nowhere", "/healthz"):
        async with web.http.get(f"{web.base}{path}") as response:
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Content-Security-Policy"].startswith("default-src 'none'"), path
        assert "aiohttp" not in headers.get("Server", ""), path


# -- posting ------------------------------------------------------------------------------


async def test_one_click_post_records_at_once_with_200_and_no_redirect(web: Web) -> None:
    token = web.token()
    async with web.http.post(
        f"{web.base}/u/{token}", data=ONE_CLICK, allow_redirects=False
    ) as response:
        assert response.status == 200
        assert "Location" not in response.headers
        assert len(await response.read()) < 100
    entries = await web.suppressed()
    assert [(e.scope, e.origin) for e in entries] == [
        ("controller:acme", SuppressionOrigin.ONE_CLICK)
    ]


async def test_one_click_as_multipart_form_is_accepted(web: Web) -> None:
    # RFC 8058 allows multipart/form-data as well as urlencoded bodies.
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("List-Unsubscribe", "One-Click")
    form.add_field("ignored", "x")
    async with web.http.post(f"{web.base}/u/{web.token()}", data=form) as response:
        assert response.status == 200
    assert len(await web.suppressed()) == 1


async def test_page_button_records_and_shows_confirmation(web: Web) -> None:
    token = web.token(language="de")
    async with web.http.post(
        f"{web.base}/u/{token}", data={"confirm": "page"}, allow_redirects=False
    ) as response:
        assert response.status == 200
        body = await response.text()
    assert STRINGS["de"]["done_title"] in body
    assert "ACME Industrie SAS wird Ihnen keine Werbenachrichten mehr senden." in body
    entries = await web.suppressed()
    assert [e.origin for e in entries] == [SuppressionOrigin.PAGE]


async def test_post_twice_is_harmless(web: Web) -> None:
    token = web.token()
    for _ in range(2):
        async with web.http.post(f"{web.base}/u/{token}", data=ONE_CLICK) as response:
            assert response.status == 200
    assert len(await web.suppressed()) == 1


@pytest.mark.parametrize(
    "data", [{}, {"List-Unsubscribe": "one-click-please"}, {"other": "x"}], ids=str
)
async def test_post_without_one_click_or_confirm_records_nothing(
    web: Web, data: dict[str, str]
) -> None:
    async with web.http.post(f"{web.base}/u/{web.token()}", data=data) as response:
        assert response.status == 400
    assert await web.suppressed() == []


async def test_token_from_the_previous_key_still_works(web: Web) -> None:
    old = TokenSigner([OLD_KEY], max_age_days=MAX_AGE_DAYS)
    claims = web.signer.verify(web.token())
    async with web.http.post(f"{web.base}/u/{old.sign(claims)}", data=ONE_CLICK) as response:
        assert response.status == 200
    assert len(await web.suppressed()) == 1


async def test_store_down_gives_503_not_a_false_confirmation(tmp_path: Path) -> None:
    async for web in start_web(tmp_path, migrate=False):  # no tables: every write fails
        token = web.token(language="en")
        async with web.http.post(f"{web.base}/u/{token}", data=ONE_CLICK) as response:
            assert response.status == 503
        async with web.http.post(f"{web.base}/u/{token}", data={"confirm": "page"}) as response:
            assert response.status == 503
            assert STRINGS["en"]["unavailable_title"] in await response.text()


async def test_public_url_path_prefixes_the_unsubscribe_routes(tmp_path: Path) -> None:
    async for web in start_web(tmp_path, public_url="https://relay.example/mail/"):
        token = web.token()
        async with web.http.get(f"{web.base}/mail/u/{token}") as response:
            assert response.status == 200
        async with web.http.get(f"{web.base}/u/{token}") as response:
            assert response.status == 404


# -- bad tokens ---------------------------------------------------------------------------


def _flip(s: str, index: int) -> str:
    return s[:index] + ("A" if s[index] != "A" else "B") + s[index + 1 :]


BAD_TOKENS: dict[str, Callable[[Web], str]] = {
    "forged-signature": lambda w: _flip(w.token(), -3),
    "forged-claims": lambda w: _flip(w.token(), 10),
    "truncated": lambda w: w.token()[:-5],
    "garbage": lambda w: "not-a-token-at-all",
    "not-base64": lambda w: "%E2%82%AC~!$&'()*+,;=:@",
    "empty": lambda w: "",
    "wrong-key": lambda w: TokenSigner([b"x" * 32], MAX_AGE_DAYS).sign(w.signer.verify(w.token())),
    "expired": lambda w: w.token(issued=date.today() - timedelta(days=MAX_AGE_DAYS + 1)),
    "oversized": lambda w: "A" * 3000,
}


@pytest.mark.parametrize("shape", sorted(BAD_TOKENS))
async def test_bad_token_gets_the_same_plain_400_page(web: Web, shape: str) -> None:
    token = BAD_TOKENS[shape](web)
    for method, data in (("GET", None), ("POST", ONE_CLICK), ("POST", {"confirm": "page"})):
        async with web.http.request(method, f"{web.base}/u/{token}", data=data) as response:
            assert response.status == 400, (shape, method)
            assert await response.text() == BAD_TOKEN_PAGE
    assert "@" not in BAD_TOKEN_PAGE
    assert await web.store.suppression_count() == 0


# -- abuse limits -------------------------------------------------------------------------


async def test_rate_limit_per_client_gives_429_on_unsubscribe_routes_only(
    tmp_path: Path,
) -> None:
    async for web in start_web(tmp_path, rate=3):
        url = f"{web.base}/u/{web.token()}"
        statuses = []
        for _ in range(5):
            async with web.http.get(url) as response:
                statuses.append(response.status)
                retry_after = response.headers.get("Retry-After")
        assert statuses == [200, 200, 200, 429, 429]
        assert retry_after is not None and int(retry_after) >= 1
        async with web.http.post(url, data=ONE_CLICK) as response:
            assert response.status == 429
        assert await web.suppressed() == []
        for _ in range(5):
            async with web.http.get(f"{web.base}/healthz") as response:
                assert response.status == 200


@pytest.mark.parametrize("trusted", [False, True])
async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, trusted: bool
) -> None:
    networks = (IPv4Network("127.0.0.0/8"),) if trusted else ()
    async for web in start_web(tmp_path, rate=1, trusted=networks):
        url = f"{web.base}/u/not-a-token"  # valid tokens are limited per token, not per IP
        statuses = []
        for client in ("198.51.100.7", "198.51.100.7", "203.0.113.9"):
            # The leftmost hop is whatever the client claims; only the proxy's entry counts.
            headers = {"X-Forwarded-For": f"10.9.9.9, {client}"}
            async with web.http.get(url, headers=headers) as response:
                statuses.append(response.status)
        assert statuses == ([400, 429, 400] if trusted else [400, 429, 429])


async def test_oversized_body_gives_413_declared_or_chunked(web: Web) -> None:
    url = f"{web.base}/u/{web.token()}"
    big = {"List-Unsubscribe": "One-Click", "pad": "x" * 10_000}
    async with web.http.post(url, data=big) as response:
        assert response.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        yield b"List-Unsubscribe=One-Click&pad="
        for _ in range(10):
            yield b"x" * 1000

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with web.http.post(url, data=chunks(), headers=headers) as response:
        assert response.status == 413
    assert await web.suppressed() == []


# -- probes and metrics -------------------------------------------------------------------


async def test_healthz(web: Web) -> None:
    async with web.http.get(f"{web.base}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_readyz_fails_naming_the_check_then_recovers(web: Web) -> None:
    async with web.http.get(f"{web.ops}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"

    web.checks.failing.add("upstream")
    web.checks.hanging.add("policy")
    async with web.http.get(f"{web.ops}/readyz") as response:
        assert response.status == 503
        body = await response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["policy", "upstream"]
    assert body["checks"] == {
        "database": "ok",
        "policy": "timeout",
        "upstream": "failed: ConnectionRefusedError",
    }
    assert "secret-host" not in str(body)

    web.checks.failing.clear()
    web.checks.hanging.clear()
    async with web.http.get(f"{web.ops}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["failed"] == []


async def test_readyz_fails_when_the_database_is_unreachable() -> None:
    # A PostgreSQL URL on a closed port: the real Store.ping fails fast, and the reply must
    # not echo the DSN (user, password, host) the error message carries.
    url = "postgresql+asyncpg://relay:s3cret-pw@127.0.0.1:1/relay"
    engine = create_engine(DatabaseSettings(url=url, timeout=1.0))
    store = Store(engine, HASH_KEY, timeout=1.0)
    deps = WebDeps(
        tokens=TokenSigner([KEY], max_age_days=MAX_AGE_DAYS),
        unsubscriber=StoreUnsubscriber(store, Metrics()),
        policy=lambda: POLICY,
        readiness=(ReadinessCheck("database", store.ping),),
        render_metrics=lambda: b"",
        public_url="http://127.0.0.1",
        rate_limit_per_minute=60,
    )
    server = WebServer(build_ops_app(deps))
    port = await server.start("127.0.0.1", 0)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/readyz") as response,
        ):
            assert response.status == 503
            body = await response.json()
    finally:
        await server.stop()
        await engine.dispose()
    assert body["failed"] == ["database"]
    assert body["checks"]["database"] == "failed: StoreUnavailable"
    assert "s3cret" not in str(body)


async def test_metrics_exposes_the_counters(web: Web) -> None:
    async with web.http.post(f"{web.base}/u/{web.token()}", data=ONE_CLICK) as response:
        assert response.status == 200
    async with web.http.get(f"{web.ops}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    assert 'prospect_relay_unsubscribes_total{origin="one-click"} 1.0' in text
    assert "prospect_relay_suppression_entries 1.0" in text


def test_every_language_defines_every_text() -> None:
    keys = set(STRINGS["en"])
    for language, texts in STRINGS.items():
        assert set(texts) == keys, language
        assert all(value.strip() for value in texts.values()), language
