"""Hostile message content from outside `allowed_networks`, through the public unsubscribe
mailbox (any network may send to it): limits refused with a reply naming the limit, the
quadratic shapes answered promptly while /healthz keeps answering, and no traceback flood.

Budgets are generous (seconds, where the fixed relay needs milliseconds and the old one
needed 5-20 s on these inputs): they catch a hang or quadratic growth, not a slow machine.
"""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import FullRelayFactory
from tests.e2e.hostile_helpers import send_outside
from tests.hostile import (
    HOSTILE_SENDER,
    address_runs,
    folded,
    multipart,
    nested,
    raw_message,
    signed_lt_runs,
    unterminated_quote,
    unterminated_words,
    with_entity,
)
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

NO_TOKEN = "550 5.7.1 unsubscribe-token:"
BUDGET = 3.0  # seconds for one message, and for one /healthz answer meanwhile


LIMITS = [
    pytest.param(
        raw_message(["Subject: " + "x" * 1000]),
        "554 5.6.0 Message refused: header line over 998 octets (RFC 5322 2.1.1)",
        id="header-line",
    ),
    pytest.param(
        raw_message([folded("X-Filler", ["y" * 60] * 1100)]),
        "552 5.3.4 Message refused: header section over 65536 octets",
        id="header-size",
    ),
    pytest.param(
        with_entity([], multipart("multipart/mixed", ["\r\nx"] * 501)),
        "552 5.3.4 Message refused: more than 500 MIME parts",
        id="mime-parts",
    ),
    pytest.param(
        with_entity([], nested(21)),
        "552 5.3.4 Message refused: MIME nesting deeper than 20 levels",
        id="mime-depth",
    ),
    pytest.param(
        raw_message(["X-Prospect-Campaign: " + "c" * 255]),
        "554 5.6.0 Message refused: X-Prospect-Campaign over 200 octets",
        id="campaign-header",
    ),
]


@pytest.mark.parametrize(("message", "reply"), LIMITS)
async def test_limits_are_refused_with_a_reply_naming_them(
    full_relay: FullRelayFactory, message: bytes, reply: str
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})

    timed = await send_outside(relay, message)

    assert timed.transcript.data is not None
    assert timed.transcript.data.startswith(reply), timed.transcript.data
    assert relay.delivered == []


async def test_limits_come_from_the_content_section(full_relay: FullRelayFactory) -> None:
    relay = await full_relay(
        smtp={"allowed_networks": ["127.0.0.1/32"]},
        content={"max_mime_parts": 3, "max_mime_depth": 2, "max_header_size": 2048},
    )
    four = with_entity([], multipart("multipart/mixed", ["\r\nx"] * 4))
    three = with_entity(["Subject: stop"], multipart("multipart/mixed", ["\r\nx"] * 3))

    too_many = await send_outside(relay, four)
    too_deep = await send_outside(relay, with_entity([], nested(3)))
    too_big = await send_outside(relay, raw_message([folded("X-Filler", ["y" * 60] * 40)]))
    fine = await send_outside(relay, three)

    assert (too_many.transcript.data or "").startswith("552 5.3.4 Message refused: more than 3")
    assert (too_deep.transcript.data or "").startswith("552 5.3.4 Message refused: MIME nesting")
    assert (too_big.transcript.data or "").startswith("552 5.3.4 Message refused: header section")
    assert (fine.transcript.data or "").startswith(NO_TOKEN), fine


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(unterminated_words(60_000), id="encoded-word-subject"),
        pytest.param(unterminated_quote(60_000), id="unterminated-quote-parameter"),
        pytest.param(signed_lt_runs(10, 33_000), id="signed-html-lt-runs"),
        pytest.param(address_runs(62_000), id="address-list-at-runs"),  # ~2 s before
    ],
)
async def test_quadratic_shapes_are_answered_promptly_and_healthz_keeps_answering(
    full_relay: FullRelayFactory, shape: str
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    if shape.startswith("Content-Type: multipart"):
        message = with_entity(["Subject: stop"], shape)
    else:
        message = raw_message([shape] if shape.startswith("Subject") else ["Subject: stop", shape])

    timed = await send_outside(relay, message)

    assert timed.transcript.data is not None and timed.transcript.data.startswith(NO_TOKEN)
    assert timed.seconds < BUDGET, timed
    assert timed.healthz_answers >= 1 and timed.worst_healthz < BUDGET, timed


@pytest.mark.parametrize(
    "field",
    [
        pytest.param(
            folded("Cc", [*(["("] * 1500), "x", *([")"] * 1500), "<a@b.example>"]),
            id="nested-comment",  # 3 KB: a 184 KB traceback before
        ),
        pytest.param(folded("To", [":"] * 2000), id="colon-groups"),  # RecursionError before
    ],
)
async def test_address_fields_log_no_traceback(
    full_relay: FullRelayFactory, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    message = raw_message(["Subject: stop", field])

    with caplog.at_level(logging.DEBUG):
        timed = await send_outside(relay, message)

    assert timed.transcript.data is not None and timed.transcript.data.startswith(NO_TOKEN)
    assert [r for r in caplog.records if r.exc_info] == []
    assert max(len(r.getMessage()) for r in caplog.records) < 2_000


async def test_unknown_charset_word_does_not_hide_a_deceptive_subject(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    marie = "marie@gmail.com"
    await relay.store.upsert_contacts([consented(marie)])
    subject = "=?utf-8?q?RE=3A_unpaid_invoice?= =?x-unknown?q?z?="
    message = raw_message([f"Subject: {subject}", "Date: Tue, 1 Dec 2026 10:00:00 +0000"])
    message = message.replace(f"From: <{HOSTILE_SENDER}>".encode(), b"From: <news@example.com>")

    result = await relay.send(marie, message)

    assert result.data is not None and result.data.startswith("550 5.7.1 deceptive-subject:")
    assert relay.delivered == []
