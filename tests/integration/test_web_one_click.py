"""One-click unsubscribes are never throttled away (RFC 8058 POSTs from few provider IPs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proxy.web.i18n import STRINGS
from tests.integration.web_helpers import ONE_CLICK, Web, start_web

RATE = 60  # the shipped web.rate_limit_per_minute


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async for running in start_web(tmp_path, rate=RATE):
        yield running


async def test_seventy_one_click_posts_from_one_address_all_succeed(web: Web) -> None:
    # A mailbox provider relays the objections of 70 people within a minute from one IP.
    statuses = []
    for n in range(70):
        token = web.token(address_hash=web.store.address_hash(f"person{n}@example.fr"))
        async with web.http.post(f"{web.base}/u/{token}", data=ONE_CLICK) as response:
            statuses.append(response.status)
    assert statuses == [200] * 70
    assert await web.store.suppression_count() == 70


# A slow limit (one request refilled every 30 s) keeps these independent of the pace.


async def test_a_valid_token_is_limited_per_token(tmp_path: Path) -> None:
    async for web in start_web(tmp_path, rate=2):
        url = f"{web.base}/u/{web.token()}"
        statuses = []
        for _ in range(3):
            async with web.http.post(url, data=ONE_CLICK) as response:
                statuses.append(response.status)
        assert statuses == [200, 200, 429]
        other = web.token(address_hash=web.store.address_hash("someone.else@example.fr"))
        async with web.http.post(f"{web.base}/u/{other}", data=ONE_CLICK) as response:
            assert response.status == 200  # the same client IP, another objection


async def test_invalid_token_attempts_are_limited_per_client_address(tmp_path: Path) -> None:
    async for web in start_web(tmp_path, rate=2):
        statuses = []
        for n in range(3):
            async with web.http.post(f"{web.base}/u/forged{n}", data=ONE_CLICK) as response:
                statuses.append(response.status)
        assert statuses == [400, 400, 429]
        async with web.http.post(f"{web.base}/u/{web.token()}", data=ONE_CLICK) as response:
            assert response.status == 200  # a real objection from that address still passes


async def test_a_link_opened_again_after_unsubscribing_says_already_unsubscribed(
    web: Web,
) -> None:
    token = web.token(language="en")
    url = f"{web.base}/u/{token}"
    async with web.http.get(url) as response:
        assert "<button" in await response.text()
    async with web.http.post(url, data=ONE_CLICK) as response:
        assert response.status == 200

    async with web.http.get(url) as response:
        body = await response.text()
    assert response.status == 200
    assert STRINGS["en"]["already_title"] in body
    assert "<button" not in body and "<form" not in body


async def test_a_global_objection_covers_the_controller_link(web: Web) -> None:
    async with web.http.post(
        f"{web.base}/u/{web.token(scope='global')}", data=ONE_CLICK
    ) as response:
        assert response.status == 200
    async with web.http.get(f"{web.base}/u/{web.token(language='de')}") as response:
        assert STRINGS["de"]["already_title"] in await response.text()
