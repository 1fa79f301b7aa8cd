"""Standard Webhooks signatures, backoff schedule and endpoint settings (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from proxy.errors import ConfigError
from proxy.feedback.dispatch import ErasureNotifier, backoff
from proxy.feedback.events import EventRoutes
from proxy.feedback.signing import decode_secret, sign, verify
from proxy.settings import WebhookSettings, load_settings

# The example of the Standard Webhooks specification (standard-webhooks/standard-webhooks).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification_example() -> None:
    key = decode_secret(SPEC_SECRET)
    assert sign(key, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    assert verify(key, SPEC_ID, SPEC_TS, SPEC_BODY, f"v1,bogus {SPEC_SIGNATURE}")
    assert not verify(key, SPEC_ID, SPEC_TS + 1, SPEC_BODY, SPEC_SIGNATURE)
    assert not verify(key, SPEC_ID, SPEC_TS, SPEC_BODY + b" ", SPEC_SIGNATURE)


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with"),
        ("whsec_not base64!", "base64"),
        ("whsec_c2hvcnQ=", "random bytes"),
    ],
)
def test_bad_secrets_are_named(secret: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_secret(secret)


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = WebhookSettings(retry_base=30, retry_max=3600)
    waits = [backoff(settings, n) for n in range(1, 10)]
    assert waits[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert waits[-1] == timedelta(seconds=3600)
    assert backoff(settings, 10_000) == timedelta(seconds=3600)


def test_endpoint_settings_errors_name_the_key(tmp_path: pytest.TempPathFactory) -> None:
    config = tmp_path / "relay.toml"  # type: ignore[operator]
    config.write_text(
        "[[webhooks.endpoints]]\n"
        'name = "crm"\n'
        'url = "ftp://crm.example"\n'
        'secret = "plain"\n'
        'events = ["bounce", "opened"]\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    text = str(raised.value)
    assert "webhooks.endpoints.0.url" in text
    assert "webhooks.endpoints.0.secret" in text and "whsec_" in text
    assert "webhooks.endpoints.0.events" in text and "opened" in text


async def test_erasure_notifier_says_whether_an_endpoint_hears_of_it() -> None:
    wanted = ErasureNotifier(EventRoutes.build([("crm", ["erasure"])]))
    filtered = ErasureNotifier(EventRoutes.build([("crm", ["bounce"])]))
    assert await wanted.notify("rights.erasure", {}) is True
    assert await filtered.notify("rights.erasure", {}) is False
    assert await ErasureNotifier(EventRoutes()).notify("rights.erasure", {}) is False
