"""Rewriting and unsubscribing end to end: the delivered copy's footer, headers, DKIM
signature and List-Unsubscribe links, used the way a mailbox provider or a person would."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from proxy.model import SuppressionOrigin
from tests.e2e.conftest import (
    PUBLIC_URL,
    RELAY_HOSTNAME,
    FullRelayFactory,
    make_message,
)
from tests.e2e.delivered import (
    body_text,
    deliver_to,
    mailto_parts,
    objection,
    parse,
    unsubscribe_links,
)
from tests.unit.policy_factory import consented

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"
SOPHIE = "sophie@gmail.com"
LEGAL_NAME = "Acme Prospecting SAS"


async def test_delivered_copy_has_footer_headers_and_trace(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    headers = {"X-Prospect-Campaign": "spring", "X-Prospect-Source": "the spring fair"}

    copy = await deliver_to(relay, MARIE, headers=headers, message_id="<spring-1@example.com>")

    url, mailto = unsubscribe_links(copy)
    assert url.startswith(f"{PUBLIC_URL}/u/")
    assert mailto.startswith(f"mailto:unsubscribe@{RELAY_HOSTNAME}?subject=")
    assert copy.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    assert copy["Message-ID"] == "<spring-1@example.com>"
    # The campaign headers are gone; only the relay's own X-Prospect-Relay-* remain.
    prospect_headers = {name.lower() for name in copy if name.lower().startswith("x-prospect-")}
    assert prospect_headers == {"x-prospect-relay-queue-id", "x-prospect-relay-footer"}
    assert copy["X-Prospect-Relay-Queue-Id"] and copy["Received"].startswith("from ")
    text = body_text(copy, "plain")
    html = body_text(copy, "html")
    assert text.startswith("Hello,\nour new collection is out.\n")
    for body in (text, html):
        assert body.count(LEGAL_NAME) == 1 and body.count(url) == 1  # footed exactly once
        assert "prospection commerciale" in body  # French: the contact is in FR
        assert "newsletter form on acme.fr" in body  # the contact's data source
    assert html.index(LEGAL_NAME) < html.index("</body>")


async def test_each_recipient_gets_a_copy_with_its_own_token(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE), consented(SOPHIE)])

    result = await relay.send([MARIE, SOPHIE], make_message("undisclosed-recipients:;"))

    assert result.accepted, result
    copies = {m.rcpt_tos[0]: parse(m) for m in relay.delivered}
    assert sorted(copies) == [MARIE, SOPHIE]
    assert all(len(m.rcpt_tos) == 1 for m in relay.delivered)
    marie_url, marie_mailto = unsubscribe_links(copies[MARIE])
    sophie_url, sophie_mailto = unsubscribe_links(copies[SOPHIE])
    assert marie_url != sophie_url and marie_mailto != sophie_mailto
    assert marie_url in body_text(copies[MARIE], "plain")
    assert sophie_url in body_text(copies[SOPHIE], "plain")
    assert marie_url not in body_text(copies[SOPHIE], "plain")


async def test_delivered_copy_is_dkim_signed_after_rewriting(
    full_relay: FullRelayFactory, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    looked_up: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        looked_up.append(name)
        return record if name == b"sel1._domainkey.example.com." else None

    relay = await full_relay(
        dkim={"domain": "example.com", "selector": "sel1", "private_key_file": str(key_file)}
    )
    await relay.store.upsert_contacts([consented(MARIE)])

    await deliver_to(relay, MARIE)

    [delivered] = relay.delivered
    signature = parse(delivered)["DKIM-Signature"]
    tags = {k.strip(): v.strip() for k, _, v in (t.partition("=") for t in signature.split(";"))}
    signed = {h.strip().lower() for h in re.sub(r"\s", "", tags["h"]).split(":")}
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= signed
    assert dkim.verify(delivered.content, dnsfunc=dns)
    assert looked_up == [b"sel1._domainkey.example.com."]
    tampered = delivered.content.replace(b"our new collection", b"our old collection", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


async def test_one_click_post_suppresses_the_next_message(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    url, _ = unsubscribe_links(await deliver_to(relay, MARIE))

    status, _ = await relay.post_form(relay.local_url(url), {"List-Unsubscribe": "One-Click"})

    assert status == 200
    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.ONE_CLICK and entry.scope == "controller:acme"
    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    assert len(relay.delivered) == 1


async def test_mailto_unsubscribe_is_consumed_and_suppresses(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    _, mailto = unsubscribe_links(await deliver_to(relay, MARIE))
    address, subject = mailto_parts(mailto)
    assert address == f"unsubscribe@{RELAY_HOSTNAME}"

    result = await relay.send(address, objection(address, subject), sender=MARIE)

    assert result.accepted, result
    assert len(relay.delivered) == 1  # the objection went nowhere
    [entry] = await relay.store.is_suppressed(MARIE)
    assert entry.origin is SuppressionOrigin.MAILTO
    again = await relay.send(MARIE)
    assert again.rcpt[MARIE].startswith("550 5.7.1 suppressed:"), again
    metrics = await relay.scrape()
    assert metrics[("prospect_relay_unsubscribes_total", (("origin", "mailto"),))] == 1.0


async def test_mailto_without_a_token_is_refused_not_dropped(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    address = f"unsubscribe@{RELAY_HOSTNAME}"

    result = await relay.send(address, objection(address, "please stop"), sender=MARIE)

    assert result.data is not None and result.data.startswith("550 5.7.1 unsubscribe-token:")
    assert relay.delivered == []


async def test_mailbox_open_to_outside_peers_but_nothing_else(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    await relay.store.upsert_contacts([consented(MARIE)])
    _, mailto = unsubscribe_links(await deliver_to(relay, MARIE))  # from an allowed peer
    address, subject = mailto_parts(mailto)
    outside = "127.0.0.2"  # loopback too, but outside allowed_networks

    refused = await relay.send(MARIE, source_address=outside)
    result = await relay.send(
        [MARIE, address], objection(address, subject), sender=MARIE, source_address=outside
    )

    assert refused.mail.startswith("250")
    assert re.match(r"5\d\d 5\.7\.\d", refused.rcpt[MARIE]), refused
    assert re.match(r"5\d\d 5\.7\.\d", result.rcpt[MARIE]), result
    assert result.rcpt[address].startswith("250") and result.accepted, result
    assert len(relay.delivered) == 1
    assert (await relay.send(MARIE)).rcpt[MARIE].startswith("550 5.7.1 suppressed:")
