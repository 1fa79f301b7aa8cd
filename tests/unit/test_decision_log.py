"""What the decision log says of an address, per `[log] recipients`."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from proxy.logs import (
    MAX_EXCEPTION,
    MAX_MESSAGE,
    DecisionLog,
    JsonFormatter,
    MessageRecord,
    RecipientRecord,
    TextFormatter,
    mask_address,
    mask_addresses_in,
)
from proxy.settings import LogSettings, RecipientLogging
from proxy.store.hashing import address_hash

KEY = b"decision-log-test-key-0123456789"


def test_hash_mode_uses_the_suppression_list_hash() -> None:
    """Hashed log lines join with suppressions and audit records (same key, same form)."""
    log = DecisionLog(LogSettings(recipients=RecipientLogging.HASH), KEY)
    expected = "h:" + address_hash(KEY, "marie@gmail.com")
    assert log.address("marie@gmail.com") == expected
    assert log.address(" Marie@GMAIL.com ") == expected
    assert log.address("marie+news@gmail.com") != expected


def test_mask_mode_hides_the_local_part() -> None:
    log = DecisionLog(LogSettings(), KEY)
    assert log.address("jean.dupont@Example.com") == "j***@example.com"
    assert log.address("") == "<>"


def _record(reply: str) -> MessageRecord:
    refused = RecipientRecord("info@acme.example", "reject", "upstream", reply=reply)
    return MessageRecord(
        queue_id="q1",
        peer="192.0.2.1",
        auth_user=None,
        mail_from="news@example.com",
        size=10,
        action="reject",
        recipients=(refused,),
        reply=reply,
        upstream="mx",
        upstream_reply=reply,
        latency_ms=1.0,
    )


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        (RecipientLogging.MASK, "i***@acme.example"),
        (RecipientLogging.HASH, "h:" + address_hash(KEY, "info@acme.example")),
    ],
)
def test_addresses_inside_reply_texts_are_shown_as_address_fields_are(
    mode: RecipientLogging, shown: str
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("test-decision-log")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    reply = "550 5.1.1 <info@acme.example>: Recipient address rejected"
    try:
        DecisionLog(LogSettings(recipients=mode), KEY, logger).record(_record(reply))
    finally:
        logger.removeHandler(handler)
    text = json.dumps(records[0].decision)  # type: ignore[attr-defined]
    assert "info@acme.example" not in text
    assert text.count(shown) == 4  # the address field and the three reply texts


def test_addresses_in_free_text_linear_and_bounded() -> None:
    text = "x" * 50_000 + "@" * 10 + " a.b@c.example, <d@e.example>: ok"
    masked = mask_addresses_in(text, mask_address)
    assert masked.endswith(" a***@c.example, <d***@e.example>: ok")


def _line(formatter: logging.Formatter, message: str, error: Exception | None) -> str:
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, message, None, None)
    if error is not None:
        try:
            raise error
        except Exception:
            record.exc_info = sys.exc_info()
    return formatter.format(record)


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
def test_exceptions_are_logged_bounded_and_masked(formatter: type[JsonFormatter]) -> None:
    error = ValueError("bad value for marie@gmail.com: " + "(" * 100_000)

    quiet = _line(formatter(), "failed for marie@gmail.com", error)
    debug = _line(formatter(debug=True), "x" * 100_000, error)

    assert "marie@gmail.com" not in quiet and "m***@gmail.com" in quiet
    assert "ValueError: bad value" in quiet and "Traceback" not in quiet
    assert len(quiet) < 1_000
    assert "Traceback" in debug and "raise error" in debug and "ValueError: bad" in debug
    assert len(debug) < 2 * MAX_MESSAGE + MAX_EXCEPTION + 1_000
