"""Signed event webhooks of email service providers, verified and reduced to bounces and
complaints: Amazon SES (through SNS), SendGrid, Mailgun and Postmark. Pure functions of
the request (the SNS certificate is fetched by the caller, see `CertFetcher`).

The address in a verified provider event is believed: the signature proves the provider
sent it, and the provider saw the delivery. An event that fails verification, is stale
(replay) or does not parse raises `EspError` and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from proxy.errors import EspError

__all__ = [
    "MAX_AGE_SECONDS",
    "CertFetcher",
    "EspEvent",
    "check_sns_cert_url",
    "mailgun_events",
    "postmark_events",
    "read_json",
    "sendgrid_events",
    "ses_events",
    "sns_verify",
]

MAX_AGE_SECONDS = 15 * 60  # a signed timestamp older (or newer) than this is a replay
# SNS signing certificates are served only from these hosts (the pattern the AWS SDKs check).
_SNS_CERT_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
CertFetcher = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class EspEvent:
    kind: str  # "bounce" | "complaint"
    email: str
    status: str  # bounce: RFC 3463 code; complaint: feedback type
    detail: str | None = None


def read_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise EspError("body is not JSON") from None


def _fresh(timestamp: str, now: float) -> None:
    try:
        signed_at = float(timestamp)
    except ValueError:
        raise EspError("bad timestamp") from None
    if abs(now - signed_at) > MAX_AGE_SECONDS:
        raise EspError("stale timestamp (replay?)")


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EspError("signature is not base64") from None


def _status(value: object, fallback: str) -> str:
    found = re.search(r"\b([245]\.\d{1,3}\.\d{1,3})\b", str(value or ""))
    return found.group(1) if found else fallback


# -- SendGrid: ECDSA (P-256, SHA-256) over timestamp + body -------------------------------


def sendgrid_events(
    body: bytes, signature: str, timestamp: str, public_key: str, now: float
) -> list[EspEvent]:
    try:
        key = serialization.load_der_public_key(_b64(public_key))
    except ValueError:
        raise EspError("the configured SendGrid public key does not load") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise EspError("the configured SendGrid key is not an ECDSA key")
    try:
        key.verify(_b64(signature), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise EspError("signature does not verify") from None
    _fresh(timestamp, now)
    events = read_json(body)
    if not isinstance(events, list):
        raise EspError("expected a JSON array of events")
    found: list[EspEvent] = []
    for item in events:
        if not isinstance(item, dict) or not isinstance(item.get("email"), str):
            continue
        event = item.get("event")
        if event == "spamreport":
            found.append(EspEvent("complaint", item["email"], "abuse"))
        elif event == "bounce":
            permanent = item.get("type") != "blocked"
            fallback = "5.0.0" if permanent else "4.0.0"
            status = _status(item.get("status"), fallback)
            found.append(EspEvent("bounce", item["email"], status, str(item.get("reason", ""))))
    return found


# -- Mailgun: HMAC-SHA256(signing key, timestamp + token) ---------------------------------


def mailgun_events(body: bytes, signing_key: bytes, now: float) -> tuple[list[EspEvent], str]:
    """The events and the signature's token (the caller refuses a token seen before)."""
    document = read_json(body)
    signature = document.get("signature") if isinstance(document, dict) else None
    if not isinstance(signature, dict):
        raise EspError("no signature object")
    timestamp, token, given = (
        str(signature.get(k, "")) for k in ("timestamp", "token", "signature")
    )
    expected = hmac.new(signing_key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not token or not hmac.compare_digest(expected, given):
        raise EspError("signature does not verify")
    _fresh(timestamp, now)
    data = document.get("event-data")
    if not isinstance(data, dict) or not isinstance(data.get("recipient"), str):
        return [], token
    event = data.get("event")
    if event == "complained":
        return [EspEvent("complaint", data["recipient"], "abuse")], token
    if event == "failed":
        delivery = data.get("delivery-status") or {}
        permanent = data.get("severity") == "permanent"
        fallback = "5.0.0" if permanent else "4.0.0"
        status = _status(
            delivery.get("enhanced-code") or delivery.get("description") or delivery.get("message"),
            fallback,
        )
        if status[0] == "5" and not permanent:
            status = "4" + status[1:]  # Mailgun will retry: a temporary failure
        return [
            EspEvent("bounce", data["recipient"], status, str(delivery.get("message", "")))
        ], token
    return [], token


# -- Postmark: a secret in basic auth (checked by the caller); the body ------------------

_POSTMARK_STATUS = {
    "HardBounce": "5.1.1",
    "BadEmailAddress": "5.1.3",
    "ManuallyDeactivated": "5.2.1",
}


def postmark_events(body: bytes) -> list[EspEvent]:
    item = read_json(body)
    if not isinstance(item, dict) or not isinstance(item.get("Email"), str):
        raise EspError("expected a Postmark bounce or spam complaint")
    record = item.get("RecordType")
    if record == "SpamComplaint" or item.get("Type") == "SpamComplaint":
        return [EspEvent("complaint", item["Email"], "abuse")]
    if record == "Bounce":
        kind = str(item.get("Type", ""))
        status = _POSTMARK_STATUS.get(kind, _status(item.get("Details"), "4.0.0"))
        return [EspEvent("bounce", item["Email"], status, str(item.get("Description", "")))]
    return []


# -- Amazon SES through SNS: RSA signature with the certificate of SigningCertURL --------

_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


def check_sns_cert_url(url: str) -> None:
    """Only an https URL on an SNS host, ending in .pem (else anyone could sign)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not _SNS_CERT_HOST.fullmatch(parts.hostname or ""):
        raise EspError("SigningCertURL is not an Amazon SNS https URL")
    if not parts.path.endswith(".pem") or parts.port not in (None, 443):
        raise EspError("SigningCertURL is not an Amazon SNS certificate")


def sns_string_to_sign(message: Mapping[str, Any]) -> bytes:
    fields = _SNS_FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise EspError("unknown SNS message type")
    lines = []
    for name in fields:
        if name in message and message[name] is not None:
            lines.append(f"{name}\n{message[name]}\n")
    return "".join(lines).encode()


def sns_verify(message: Mapping[str, Any], certificate_pem: bytes) -> None:
    try:
        key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    except ValueError:
        raise EspError("the SNS certificate does not load") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise EspError("the SNS certificate has no RSA key")
    version = str(message.get("SignatureVersion"))
    algorithm: hashes.HashAlgorithm
    if version == "1":
        algorithm = hashes.SHA1()  # signature version 1 is SHA1withRSA, as AWS defines it
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise EspError("unknown SNS signature version")
    signature = _b64(str(message.get("Signature", "")))
    try:
        key.verify(signature, sns_string_to_sign(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise EspError("SNS signature does not verify") from None


def ses_events(notification: str) -> list[EspEvent]:
    """The bounces and complaints of one SES notification (the SNS Message, JSON)."""
    document = read_json(notification.encode())
    if not isinstance(document, dict):
        raise EspError("SES notification is not a JSON object")
    kind = document.get("notificationType") or document.get("eventType")
    if kind == "Bounce":
        bounce = document.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        fallback = (
            "5.1.1"
            if permanent and bounce.get("bounceSubType") == "NoEmail"
            else ("5.0.0" if permanent else "4.0.0")
        )
        return [
            EspEvent(
                "bounce",
                recipient["emailAddress"],
                _status(recipient.get("status"), fallback),
                str(recipient.get("diagnosticCode", "")) or None,
            )
            for recipient in bounce.get("bouncedRecipients", [])
            if isinstance(recipient, dict) and isinstance(recipient.get("emailAddress"), str)
        ]
    if kind == "Complaint":
        complaint = document.get("complaint") or {}
        feedback_type = str(complaint.get("complaintFeedbackType") or "abuse")
        return [
            EspEvent("complaint", recipient["emailAddress"], feedback_type)
            for recipient in complaint.get("complainedRecipients", [])
            if isinstance(recipient, dict) and isinstance(recipient.get("emailAddress"), str)
        ]
    return []
