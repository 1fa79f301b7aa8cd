"""The ESP event receiver: verifies a provider's request (proxy.feedback.esp) and applies
each event with the same rules as a DSN or an ARF report (FeedbackRecorder)."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp

from proxy.errors import EspError
from proxy.feedback.esp import (
    CertFetcher,
    EspEvent,
    check_sns_cert_url,
    mailgun_events,
    postmark_events,
    read_json,
    sendgrid_events,
    ses_events,
    sns_verify,
)
from proxy.feedback.recorder import FeedbackRecorder
from proxy.settings import FeedbackSettings
from proxy.store import Store

__all__ = ["EspReceiver", "fetch_sns_certificate"]

log = logging.getLogger(__name__)

_MAX_CERT_BYTES = 16_384
_SEEN_TOKENS = 10_000


async def fetch_sns_certificate(url: str) -> bytes:
    """GET the SNS signing certificate (the URL was checked against the SNS hosts first)."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        if response.status != 200:
            raise EspError(f"SNS certificate fetch answered HTTP {response.status}")
        return await response.content.read(_MAX_CERT_BYTES)


class EspReceiver:
    def __init__(
        self,
        settings: FeedbackSettings,
        recorder: FeedbackRecorder,
        store: Store,
        *,
        fetch_certificate: CertFetcher = fetch_sns_certificate,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._recorder = recorder
        self._store = store
        self._fetch = fetch_certificate
        self._clock = clock
        self._certificates: dict[str, bytes] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()  # Mailgun tokens (replays)

    @property
    def providers(self) -> list[str]:
        """The providers configured with a key (their endpoints are served)."""
        s = self._settings
        configured = {
            "ses": bool(s.ses_topic_arns),
            "sendgrid": s.sendgrid_public_key is not None,
            "mailgun": s.mailgun_signing_key is not None,
            "postmark": s.postmark_token is not None,
        }
        return [name for name, on in configured.items() if on]

    async def _apply(self, source: str, events: list[EspEvent]) -> int:
        for event in events:
            address_hash = self._store.address_hash(event.email)
            if event.kind == "complaint":
                await self._recorder.complaint(address_hash, event.status, source=source)
            else:
                await self._recorder.bounce(
                    address_hash, event.status, source=source, detail=event.detail
                )
        return len(events)

    async def ses(self, body: bytes) -> int:
        """An SNS POST: a Notification carrying an SES event, or a SubscriptionConfirmation
        (logged with its URL for the operator to confirm; the relay fetches nothing else)."""
        message: Any = read_json(body)
        if not isinstance(message, dict):
            raise EspError("SNS body is not a JSON object")
        if message.get("TopicArn") not in self._settings.ses_topic_arns:
            raise EspError("SNS topic is not in feedback.ses_topic_arns")
        url = str(message.get("SigningCertURL", ""))
        check_sns_cert_url(url)
        certificate = self._certificates.get(url)
        if certificate is None:
            certificate = await self._fetch(url)
            self._certificates[url] = certificate
        sns_verify(message, certificate)
        if message.get("Type") == "SubscriptionConfirmation":
            log.warning(
                "SNS subscription to %s awaits confirmation: open its SubscribeURL once: %s",
                message.get("TopicArn"),
                message.get("SubscribeURL"),
            )
            return 0
        return await self._apply("ses", ses_events(str(message.get("Message", ""))))

    async def sendgrid(self, body: bytes, signature: str, timestamp: str) -> int:
        key = self._settings.sendgrid_public_key
        if key is None:
            raise EspError("SendGrid is not configured")
        return await self._apply(
            "sendgrid", sendgrid_events(body, signature, timestamp, key, self._clock())
        )

    async def mailgun(self, body: bytes) -> int:
        key = self._settings.mailgun_signing_key
        if key is None:
            raise EspError("Mailgun is not configured")
        events, token = mailgun_events(body, key.get_secret_value().encode(), self._clock())
        if token in self._seen:
            raise EspError("Mailgun token already used (replay)")
        self._seen[token] = None
        while len(self._seen) > _SEEN_TOKENS:
            self._seen.popitem(last=False)
        return await self._apply("mailgun", events)

    async def postmark(self, body: bytes, authorization: str) -> int:
        token = self._settings.postmark_token
        if token is None:
            raise EspError("Postmark is not configured")
        scheme, _, encoded = authorization.partition(" ")
        try:
            password = base64.b64decode(encoded, validate=True).decode().partition(":")[2]
        except (binascii.Error, ValueError):
            raise EspError("bad basic authorization") from None
        if scheme.lower() != "basic" or not hmac.compare_digest(
            password.encode(), token.get_secret_value().encode()
        ):
            raise EspError("basic authorization does not match feedback.postmark_token")
        return await self._apply("postmark", postmark_events(body))
