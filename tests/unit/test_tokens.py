"""Signed unsubscribe tokens: round trip, rotation, and every kind of bad input."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.errors import TokenError
from proxy.tokens import GLOBAL_SCOPE, TokenSigner, mailto_uri
from tests.unit.token_factory import TODAY, make_token, non_canonical, signed_with_spare_bits


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner([b"current-key"], max_age_days=1095)


def test_round_trip(signer: TokenSigner) -> None:
    token = make_token()
    assert signer.verify(signer.sign(token), today=TODAY) == token


def test_round_trip_without_campaign_and_global_scope(signer: TokenSigner) -> None:
    token = make_token(campaign=None, scope=GLOBAL_SCOPE)
    assert signer.verify(signer.sign(token), today=TODAY) == token


def test_token_is_url_and_subject_safe(signer: TokenSigner) -> None:
    signed = signer.sign(make_token())
    assert set(signed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(signed) < 160


def test_rotation_old_key_still_verifies_new_key_signs() -> None:
    old = TokenSigner([b"old-key"], max_age_days=30)
    rotated = TokenSigner([b"new-key", b"old-key"], max_age_days=30)
    token = make_token()
    assert rotated.verify(old.sign(token), today=TODAY) == token
    with pytest.raises(TokenError):
        old.verify(rotated.sign(token), today=TODAY)


def test_forged_with_other_key_is_rejected(signer: TokenSigner) -> None:
    forged = TokenSigner([b"attacker"], max_age_days=1095).sign(make_token())
    with pytest.raises(TokenError, match="signature"):
        signer.verify(forged, today=TODAY)


def test_tampered_payload_is_rejected(signer: TokenSigner) -> None:
    raw = bytearray(base64.urlsafe_b64decode(signer.sign(make_token()) + "=="))
    raw[5] ^= 0x01  # one bit of the address hash
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        signer.verify(tampered, today=TODAY)


@pytest.mark.parametrize("cut", [1, 5, 22, 60])
def test_truncated_is_rejected(signer: TokenSigner, cut: int) -> None:
    signed = signer.sign(make_token())
    with pytest.raises(TokenError):
        signer.verify(signed[:-cut], today=TODAY)


def test_expired_is_rejected(signer: TokenSigner) -> None:
    signed = signer.sign(make_token(issued=TODAY - timedelta(days=1096)))
    with pytest.raises(TokenError, match="expired"):
        signer.verify(signed, today=TODAY)
    assert signer.verify(signed, today=TODAY - timedelta(days=1)).issued == TODAY - timedelta(1096)


@pytest.mark.parametrize(
    "garbage", ["", "a", "!!!!", "héllo", "a" * 2000, "AAAA.BBBB", "=" * 40, "../etc/passwd"]
)
def test_garbage_is_rejected(signer: TokenSigner, garbage: str) -> None:
    with pytest.raises(TokenError):
        signer.verify(garbage, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_verifies_nor_crashes(text: str) -> None:
    with pytest.raises(TokenError):
        TokenSigner([b"k"], max_age_days=10).verify(text, today=TODAY)


def test_find_in_subject_and_local_part(signer: TokenSigner) -> None:
    signed = signer.sign(make_token())
    assert signer.find(f"Re: unsubscribe {signed}", today=TODAY) == make_token()
    assert signer.find(f"unsubscribe+{signed}", today=TODAY) == make_token()
    with pytest.raises(TokenError):
        signer.find("please remove me", today=TODAY)


def test_mailto_carries_token_in_subject(signer: TokenSigner) -> None:
    signed = signer.sign(make_token())
    uri = mailto_uri("unsubscribe", "relay.example", signed)
    assert uri == f"mailto:unsubscribe@relay.example?subject=unsubscribe%20{signed}"
    assert len("unsubscribe") <= 64  # the local part stays within RFC 5321


@pytest.mark.parametrize(
    "bad",
    [
        {"address_hash": "not-hex"},
        {"address_hash": ""},
        {"controller": "x" * 300},
        {"issued": date(2019, 1, 1)},
    ],
)
def test_unrepresentable_tokens_raise_value_error(
    signer: TokenSigner, bad: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        signer.sign(make_token(**bad))


def test_signer_needs_a_key() -> None:
    with pytest.raises(ValueError):
        TokenSigner([], max_age_days=1)


def test_non_canonical_spelling_is_rejected(signer: TokenSigner) -> None:
    token = signed_with_spare_bits(signer)
    other = non_canonical(token)
    assert other != token
    assert base64.urlsafe_b64decode(other + "=" * (-len(other) % 4)) == base64.urlsafe_b64decode(
        token + "=" * (-len(token) % 4)
    )
    assert signer.verify(token, today=TODAY).campaign
    with pytest.raises(TokenError, match="malformed"):
        signer.verify(other, today=TODAY)
