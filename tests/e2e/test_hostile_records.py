"""Low-severity hostile inputs that reach records and footers, through real sockets: EHLO
with a NUL byte, a non-canonical token in the public mailbox, formula cells in the audit
export, bidi controls from contact data in footers."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io

import pytest

from proxy.secrets import load_or_create_secret
from proxy.tokens import TokenSigner
from tests.e2e.conftest import FullRelayFactory, make_message
from tests.e2e.delivered import body_text, deliver_to, objection
from tests.e2e.hostile_helpers import MAILBOX, OUTSIDE
from tests.unit.policy_factory import consented
from tests.unit.token_factory import non_canonical, signed_with_spare_bits

pytestmark = pytest.mark.postgres

MARIE = "marie@gmail.com"


async def _ehlo(port: int, name: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(OUTSIDE, 0))
    try:
        await reader.readline()  # banner
        writer.write(b"EHLO " + name + b"\r\n")
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_ehlo_with_a_nul_byte_is_refused(full_relay: FullRelayFactory) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})

    assert (await _ehlo(relay.smtp_port, b"evil\x00.example")).startswith(b"501 ")
    assert (await _ehlo(relay.smtp_port, b"good.example")).startswith(b"250")


async def test_non_canonical_token_in_the_public_mailbox_is_refused(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay(smtp={"allowed_networks": ["127.0.0.1/32"]})
    await relay.store.upsert_contacts([consented(MARIE)])
    signer = TokenSigner([load_or_create_secret(relay.settings.security)], 1095)
    token = signed_with_spare_bits(signer, address_hash=relay.store.address_hash(MARIE))

    forged = await relay.send(
        MAILBOX,
        objection(MAILBOX, f"unsubscribe {non_canonical(token)}"),
        sender=MARIE,
        source_address=OUTSIDE,
    )
    genuine = await relay.send(
        MAILBOX, objection(MAILBOX, f"unsubscribe {token}"), sender=MARIE, source_address=OUTSIDE
    )

    assert forged.data is not None and forged.data.startswith("550 5.7.1 unsubscribe-token:")
    assert genuine.accepted, genuine


async def test_audit_export_neutralises_formula_cells(full_relay: FullRelayFactory) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts([consented(MARIE)])
    formula = '=HYPERLINK("https://evil.example","click")'

    result = await relay.send(MARIE, make_message(MARIE, headers={"X-Prospect-Campaign": formula}))
    await relay.flush_audit()
    exported = await relay.cli("audit", "export", "--since", "2000-01-01")

    assert result.accepted, result
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [row["campaign"] for row in rows if row["queue_id"]] == ["'" + formula], rows


async def test_bidi_controls_from_contact_data_do_not_reach_the_footer(
    full_relay: FullRelayFactory,
) -> None:
    relay = await full_relay()
    await relay.store.upsert_contacts(
        [consented(MARIE, source="salon \u202egnol\u202c Lyon\u200f 2025")]
    )

    copy = await deliver_to(relay, MARIE)

    for subtype in ("plain", "html"):
        text = body_text(copy, subtype)
        assert "salon gnol Lyon 2025" in text, text
        assert not any(char in text for char in "\u202e\u202c\u200f"), subtype
