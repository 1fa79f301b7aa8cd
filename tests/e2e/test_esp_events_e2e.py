"""ESP event webhooks end to end: signed requests on the relay's web port, as Amazon SNS
(SES), SendGrid, Mailgun and Postmark send them, suppress; forged, replayed or unsigned ones
change nothing. SNS certificates come from a test CA through the pluggable fetcher (no
network here); the URL is still checked against the SNS hosts before any fetch."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from proxy.feedback.esp import sns_string_to_sign
from proxy.model import SuppressionOrigin
from tests.e2e.conftest import FullRelay, FullRelayFactory

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-feedback"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
MAILGUN_KEY = "key-mailgun-signing-0123456789"
POSTMARK_TOKEN = "postmark-webhook-secret"


class Sns:
    """A signing key and its certificate, served by the fake fetcher."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        self.pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(1)
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem

    def notification(self, message: dict[str, Any], **overrides: str) -> bytes:
        envelope = {
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": TOPIC,
            "Message": json.dumps(message),
            "Timestamp": "2026-12-01T10:00:00.000Z",
            "SignatureVersion": "2",
            "SigningCertURL": CERT_URL,
        }
        envelope.update(overrides)
        signature = self.key.sign(sns_string_to_sign(envelope), padding.PKCS1v15(), hashes.SHA256())
        envelope["Signature"] = base64.b64encode(signature).decode()
        return json.dumps(envelope).encode()


def ses_bounce(address: str, status: str = "5.1.1") -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {"emailAddress": address, "status": status, "diagnosticCode": "smtp; 550 5.1.1"}
            ],
        },
        "mail": {"destination": [address]},
    }


async def post(relay: FullRelay, path: str, body: bytes, **headers: str) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{relay.web_base}{path}", data=body, headers=headers) as response,
    ):
        return response.status


@pytest.fixture
def sns() -> Sns:
    return Sns()


@pytest.fixture
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


async def esp_relay(
    full_relay: FullRelayFactory, sns: Sns, sendgrid_key: ec.EllipticCurvePrivateKey
) -> FullRelay:
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return await full_relay(
        feedback={
            "ses_topic_arns": [TOPIC],
            "sendgrid_public_key": base64.b64encode(public).decode(),
            "mailgun_signing_key": MAILGUN_KEY,
            "postmark_token": POSTMARK_TOKEN,
        },
        fetch_certificate=sns.fetch,
    )


async def assert_bounced(relay: FullRelay, address: str, origin: SuppressionOrigin) -> None:
    [entry] = await relay.store.is_suppressed(address)
    assert entry.origin is origin and entry.scope == "global"
    again = await relay.send(address)
    assert again.rcpt[address].startswith("550 5.7.1 suppressed:"), again


async def test_ses_via_sns(
    full_relay: FullRelayFactory, sns: Sns, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    relay = await esp_relay(full_relay, sns, sendgrid_key)
    forged = sns.notification(ses_bounce(MARIE)).replace(b"5.1.1", b"5.1.2", 1)
    assert await post(relay, "/feedback/ses", forged) == 401
    elsewhere = sns.notification(ses_bounce(MARIE), SigningCertURL="https://evil.test/sns.pem")
    assert await post(relay, "/feedback/ses", elsewhere) == 401
    other_topic = sns.notification(ses_bounce(MARIE), TopicArn=TOPIC + "-other")
    assert await post(relay, "/feedback/ses", other_topic) == 401
    assert await relay.store.is_suppressed(MARIE) == []
    assert all(url == CERT_URL for url in sns.fetched)

    assert await post(relay, "/feedback/ses", sns.notification(ses_bounce(MARIE))) == 200

    await assert_bounced(relay, MARIE, SuppressionOrigin.BOUNCE)
    [trail] = await relay.store.feedback_of(relay.store.address_hash(MARIE))
    assert (trail.kind, trail.status, trail.source) == ("hard-bounce", "5.1.1", "ses")


async def test_sendgrid_signed_events(
    full_relay: FullRelayFactory, sns: Sns, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    relay = await esp_relay(full_relay, sns, sendgrid_key)
    body = json.dumps([{"email": MARIE, "event": "spamreport", "timestamp": 1}]).encode()
    timestamp = str(int(time.time()))
    signature = base64.b64encode(
        sendgrid_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    ).decode()
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": signature,
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }
    tampered = body.replace(b"spamreport", b"spamreporT")
    assert await post(relay, "/feedback/sendgrid", tampered, **headers) == 401
    assert await post(relay, "/feedback/sendgrid", body) == 401  # unsigned
    assert await relay.store.is_suppressed(MARIE) == []

    assert await post(relay, "/feedback/sendgrid", body, **headers) == 200

    await assert_bounced(relay, MARIE, SuppressionOrigin.COMPLAINT)


def mailgun(event: dict[str, Any], token: str, key: str = MAILGUN_KEY) -> bytes:
    timestamp = str(int(time.time()))
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event,
        }
    ).encode()


async def test_mailgun_hmac_and_replay(
    full_relay: FullRelayFactory, sns: Sns, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    relay = await esp_relay(full_relay, sns, sendgrid_key)
    failed = {
        "event": "failed",
        "severity": "permanent",
        "recipient": MARIE,
        "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist"},
    }
    assert await post(relay, "/feedback/mailgun", mailgun(failed, "t1", "wrong-key")) == 401
    assert await relay.store.is_suppressed(MARIE) == []
    signed = mailgun(failed, "t2")
    assert await post(relay, "/feedback/mailgun", signed) == 200
    assert await post(relay, "/feedback/mailgun", signed) == 401  # the same token again

    await assert_bounced(relay, MARIE, SuppressionOrigin.BOUNCE)
    trail = await relay.store.feedback_of(relay.store.address_hash(MARIE))
    assert [(t.kind, t.status, t.source) for t in trail] == [("hard-bounce", "5.1.1", "mailgun")]


async def test_postmark_basic_auth(
    full_relay: FullRelayFactory, sns: Sns, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    relay = await esp_relay(full_relay, sns, sendgrid_key)
    body = json.dumps(
        {"RecordType": "Bounce", "Type": "HardBounce", "Email": MARIE, "Description": "gone"}
    ).encode()

    def auth(password: str) -> str:
        return "Basic " + base64.b64encode(f"postmark:{password}".encode()).decode()

    assert await post(relay, "/feedback/postmark", body, Authorization=auth("guess")) == 401
    assert await post(relay, "/feedback/postmark", body) == 401
    assert await relay.store.is_suppressed(MARIE) == []
    assert await post(relay, "/feedback/postmark", body, Authorization=auth(POSTMARK_TOKEN)) == 200

    await assert_bounced(relay, MARIE, SuppressionOrigin.BOUNCE)


async def test_unconfigured_providers_have_no_endpoint(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    assert await post(relay, "/feedback/postmark", b"{}") == 404
