"""Real-world message shapes (tests/corpus/*.eml) rewritten and checked part by part."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from proxy.mime.dkim import has_dkim_signature
from proxy.mime.inspect import read_message_facts
from proxy.mime.rewrite import (
    Placement,
    RewriteInstructions,
    check_required_mentions,
    rewrite,
    rewrite_copy,
)
from tests.unit.footer_factory import footer_values, rewrite_plan

CORPUS = sorted((Path(__file__).parents[1] / "corpus").glob("*.eml"))
PLAN = rewrite_plan(
    footer_values(),
    mailto="mailto:unsubscribe@relay.example?subject=unsubscribe%20TOKEN123",
    queue_id="4XyZ9",
)
MARK = "prospection commerciale de Acme Industrie SAS"


def _parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _leaves(message: EmailMessage) -> list[tuple[EmailMessage, bool]]:
    """(leaf, visible) in document order; attached messages and signed data are opaque."""
    out: list[tuple[EmailMessage, bool]] = []

    def walk(part: EmailMessage, frozen: bool) -> None:
        ctype = part.get_content_type()
        if part.get_content_maintype() == "message":
            out.append((part, False))
            return
        if part.is_multipart():
            for child in part.iter_parts():
                assert isinstance(child, EmailMessage)
                walk(child, frozen or ctype in ("multipart/signed", "multipart/encrypted"))
            return
        visible = (
            not frozen
            and ctype in ("text/plain", "text/html")
            and part.get_content_disposition() != "attachment"
            and not part.get_filename()
        )
        out.append((part, visible))

    walk(message, False)
    return out


def _stripped(payload: object) -> object:
    return payload.rstrip() if isinstance(payload, bytes) else payload


def test_corpus_has_the_promised_shapes() -> None:
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_corpus_message(path: Path) -> None:
    raw = path.read_bytes()
    result = rewrite_copy(raw, PLAN)
    if result.footer is Placement.REFUSED:  # too broken: the relay refuses the recipient
        assert path.stem == "31-conflicting-content-type"
        return
    out = result.message
    before, after = _parse(raw), _parse(out)

    assert before["Message-ID"] == after["Message-ID"]
    assert after.get_all("List-Unsubscribe") == [
        "<https://relay.example/u/TOKEN123>, "
        "<mailto:unsubscribe@relay.example?subject=unsubscribe%20TOKEN123>"
    ]
    assert after["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not [name for name in after if name.lower().startswith("x-prospect-") and
                not name.lower().startswith("x-prospect-relay-")]  # fmt: skip
    assert all(len(line.rstrip(b"\r")) <= 998 for line in out.split(b"\n"))
    known = {type(d).__name__ for part in before.walk() for d in part.defects}
    for part in after.walk():
        assert not [
            d
            for d in part.defects
            if type(d).__name__ not in known | {"MissingHeaderBodySeparatorDefect"}
        ]

    # Where the footer goes and that every reader sees it: tests/unit/test_footer_oracle.py.
    # Here: nothing else changed. Every leaf of the original is still there, the parts a
    # reader does not see as text byte for byte, the text ones with their original text.
    new_payloads = {_stripped(new.get_payload(decode=True)) for new, _ in _leaves(after)}
    new_texts = [new.get_content() for new, visible in _leaves(after) if visible]
    for old, visible in _leaves(before):
        if visible:
            start = old.get_content().strip()[:40]
            assert any(start in text for text in new_texts), path.name
        elif old.get_content_maintype() != "message":
            assert _stripped(old.get_payload(decode=True)) in new_payloads, path.name
    assert sum(text.count(MARK) for text in new_texts) >= 1, "every shape gets a footer"
    assert rewrite(out, PLAN) == out


def test_outlook_windows_1252_stays_readable() -> None:
    raw = (
        Path(__file__).parents[1] / "corpus" / "02-outlook-word-html-windows-1252.eml"
    ).read_bytes()
    after = _parse(rewrite(raw, PLAN))
    plain, html = (part for part in after.walk() if part.get_content_maintype() == "text")
    assert "offre \u2013 valable jusqu\u2019au 15 décembre €" in plain.get_content()
    assert "Protection de vos données" in plain.get_content()
    assert plain.get_content_charset() == html.get_content_charset() == "windows-1252"
    assert "données" in html.get_content()


def test_html_without_body_gets_footer_at_end() -> None:
    raw = (Path(__file__).parents[1] / "corpus" / "06-html-without-body-tag.eml").read_bytes()
    content = _parse(rewrite(raw, PLAN)).get_content()
    assert content.index("Vente flash") < content.index(MARK)
    assert "&lt;2025&gt; &amp; partenaires" in content


def test_signed_message_is_forwarded_byte_identical_below_headers() -> None:
    raw = (Path(__file__).parents[1] / "corpus" / "08-smime-multipart-signed.eml").read_bytes()
    headers_only = RewriteInstructions(list_unsubscribe_url="https://relay.example/u/T")
    out = rewrite(raw, headers_only)
    assert out.endswith(raw[raw.index(b"\r\n\r\n") :])
    wrapped = rewrite(raw, PLAN)  # with a footer: wrapped, the signed entity intact
    assert raw[raw.index(b"\r\n\r\n") + 4 :].rstrip() in wrapped
    facts = read_message_facts(
        raw, mail_from="a@acme.example", client_ip="127.0.0.1", auth_user=None
    )
    assert facts.signed_or_encrypted
    assert facts.has_unsubscribe_link and facts.has_source_statement
    assert check_required_mentions(raw) == []


def test_mailchimp_dkim_signature_detected() -> None:
    raw = (Path(__file__).parents[1] / "corpus" / "01-mailchimp-newsletter.eml").read_bytes()
    assert has_dkim_signature(raw)
    assert not has_dkim_signature(
        (Path(__file__).parents[1] / "corpus" / "10-empty-body.eml").read_bytes()
    )
