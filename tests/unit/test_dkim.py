"""DKIM signing after rewriting, verified by dkimpy against the public key."""

from __future__ import annotations

import base64
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from proxy.errors import ConfigError
from proxy.mime.dkim import DkimSigner, has_dkim_signature
from proxy.mime.rewrite import RewriteInstructions, rewrite
from proxy.settings import DkimSettings

MESSAGE = (
    b"From: News <news@acme.example>\r\nTo: paul@a.example\r\nSubject: Offre\r\n"
    b"Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nMessage-ID: <m1@acme.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
)
PLAN = RewriteInstructions(
    footer_text="Prospection commerciale. Désinscription : https://r.example/u/T",
    footer_html="<p>x</p>",
    list_unsubscribe_url="https://r.example/u/T",
    list_unsubscribe_mailto="mailto:unsubscribe@r.example?subject=unsubscribe%20T",
)


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def _dns(record: bytes):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"sel1._domainkey.acme.example." else None

    return lookup


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_sign_then_verify(key_pair: tuple[bytes, bytes], eol: bytes) -> None:
    pem, record = key_pair
    signer = DkimSigner("acme.example", "sel1", pem, DkimSettings().headers)
    rewritten = rewrite(MESSAGE.replace(b"\r\n", eol), PLAN)
    signed = signer.sign(rewritten)
    assert signed.endswith(rewritten) and has_dkim_signature(signed)
    canonical = signed.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert dkim.verify(canonical, dnsfunc=_dns(record))
    header = canonical.split(b"\r\n\r\n")[0].lower()
    signed_fields = header.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").replace(b" ", b"")
    assert b"list-unsubscribe:list-unsubscribe:list-unsubscribe-post:list-unsubscribe-post" in (
        signed_fields
    )
    assert b"c=relaxed/relaxed" in header.replace(b"\r\n", b"").replace(b" ", b"")


def test_tampering_after_signing_fails_verification(key_pair: tuple[bytes, bytes]) -> None:
    pem, record = key_pair
    signed = DkimSigner("acme.example", "sel1", pem, ["From", "List-Unsubscribe"]).sign(
        rewrite(MESSAGE, PLAN)
    )
    tampered = signed.replace(b"https://r.example/u/T>", b"https://evil.example/u/T>")
    assert not dkim.verify(tampered, dnsfunc=_dns(record))


@pytest.mark.parametrize(
    "added",
    [
        b"List-Unsubscribe: <https://evil.example/u>\r\n",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        b"Subject: Gagnant !\r\n",
        b"From: Bank <security@bank.example>\r\n",
    ],
)
def test_a_second_copy_of_an_oversigned_field_breaks_the_signature(
    key_pair: tuple[bytes, bytes], added: bytes
) -> None:
    """Issue 12: a second List-Unsubscribe added on top used to verify."""
    pem, record = key_pair
    signed = DkimSigner("acme.example", "sel1", pem, DkimSettings().headers).sign(
        rewrite(MESSAGE, PLAN)
    )
    assert dkim.verify(signed, dnsfunc=_dns(record))
    signature_end = signed.index(b"\r\nFrom:") + 2
    tampered = signed[:signature_end] + added + signed[signature_end:]
    assert not dkim.verify(tampered, dnsfunc=_dns(record))
    below = signed.replace(b"\r\n\r\n", b"\r\n" + added + b"\r\n", 1)
    assert not dkim.verify(below, dnsfunc=_dns(record))


def test_from_settings(tmp_path: Path, key_pair: tuple[bytes, bytes]) -> None:
    assert DkimSigner.from_settings(DkimSettings()) is None
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(key_pair[0])
    settings = DkimSettings(domain="acme.example", selector="sel1", private_key_file=key_file)
    assert isinstance(DkimSigner.from_settings(settings), DkimSigner)
    key_file.unlink()  # gone since the settings were checked
    with pytest.raises(ConfigError, match=r"settings: dkim.private_key_file: cannot read"):
        DkimSigner.from_settings(settings)


def test_settings_check_the_dkim_key(tmp_path: Path, key_pair: tuple[bytes, bytes]) -> None:
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(key_pair[0])
    with pytest.raises(ValidationError, match=r"not set: dkim.selector"):
        DkimSettings(domain="acme.example", private_key_file=key_file)
    with pytest.raises(ValidationError, match=r"not set: dkim.domain, dkim.private_key_file"):
        DkimSettings(selector="sel1")
    with pytest.raises(ValidationError, match=r"cannot read .*missing.pem"):
        DkimSettings(domain="a", selector="s", private_key_file=tmp_path / "missing.pem")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(ValidationError, match="unreadable DKIM private key"):
        DkimSettings(domain="a", selector="s", private_key_file=bad)
    with pytest.raises(ValidationError, match="must be ASCII"):
        DkimSettings(domain="müller.de", selector="s", private_key_file=key_file)


def test_has_dkim_signature_only_in_top_level_header() -> None:
    assert not has_dkim_signature(MESSAGE)
    assert has_dkim_signature(b"DKIM-Signature: v=1; d=x\r\n" + MESSAGE)
    assert not has_dkim_signature(MESSAGE + b"DKIM-Signature: in the body\r\n")
