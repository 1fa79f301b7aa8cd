"""Message facts: campaign headers, recipients, signatures, marker; never raises."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.mime.headers import MARKER_HEADER, body_digest, marker_value
from proxy.mime.inspect import MAX_SUBJECT, read_message_facts
from proxy.mime.rewrite import RewriteInstructions, rewrite

CORPUS = Path(__file__).parent.parent / "corpus"
ENVELOPE = {"mail_from": "bounce@acme.example", "client_ip": "127.0.0.1", "auth_user": "tool"}

MESSAGE = (
    b"From: =?utf-8?q?Acme_M=C3=A9dia?= <News@Acme.example>\r\n"
    b'To: Paul <paul@a.example>, b@b.example,\r\n  "Paul again" <PAUL@a.example>\r\n'
    b"Cc: c@c.example, undisclosed-recipients:;\r\n"
    b"Subject: =?iso-8859-1?q?Offre_sp=E9ciale?=\r\n"
    b"Message-ID: <m1@acme.example>\r\n"
    b"X-Prospect-Campaign: spring-26\r\n"
    b"X-Prospect-Product: running\r\n"
    b"X-Prospect-Category: energy-renovation\r\n"
    b"X-Prospect-Targets: finance; purchasing ;;it\r\n"
    b"X-Prospect-Source: =?utf-8?q?Salon_Lyon_=C3=A9t=C3=A9?=\r\n"
    b"X-Prospect-Partner-Offers: Yes\r\n"
    b"X-Prospect-Repermission: no\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
)


def test_campaign_facts_and_recipients() -> None:
    facts = read_message_facts(MESSAGE, **ENVELOPE)
    assert facts.mail_from == "bounce@acme.example" and facts.auth_user == "tool"
    assert facts.from_address == "News@Acme.example"
    assert facts.subject == "Offre spéciale"
    assert facts.campaign_id == "spring-26"
    assert facts.product == "running" and facts.category == "energy-renovation"
    assert facts.targets == ("finance", "purchasing", "it")
    assert facts.source == "Salon Lyon été"
    assert facts.partner_offers and not facts.repermission
    assert facts.visible_recipients == 3  # paul twice (case), b, c; the empty group adds none
    assert not facts.signed_or_encrypted and not facts.already_footed
    assert not facts.has_unsubscribe_link and not facts.has_source_statement


def test_marker_from_rewrite_is_recognised_only_with_the_key() -> None:
    plan = RewriteInstructions(footer_text="Footer", footer_html="<p>Footer</p>", marker_key=b"k")
    footed = rewrite(MESSAGE, plan)
    assert read_message_facts(footed, marker_key=b"k", **ENVELOPE).already_footed
    assert not read_message_facts(footed, marker_key=b"other", **ENVELOPE).already_footed
    forged = MESSAGE.replace(b"Subject:", f"{MARKER_HEADER}: 1\r\nSubject:".encode())
    assert not read_message_facts(forged, marker_key=b"k", **ENVELOPE).already_footed
    old = marker_value(b"k", "<m1@acme.example>", body_digest(b"x"))
    copied = MESSAGE.replace(
        b"Message-ID: <m1@acme.example>", f"Message-ID: <x@y>\r\n{MARKER_HEADER}: {old}".encode()
    )
    assert not read_message_facts(copied, marker_key=b"k", **ENVELOPE).already_footed


def test_replayed_marker_on_another_body_is_not_footed() -> None:
    """Issue 12: the marker header of a delivered copy, put on a new message with the same
    Message-ID, must not switch the footer and the notice off."""
    plan = RewriteInstructions(footer_text="Footer", footer_html="<p>Footer</p>", marker_key=b"k")
    footed = rewrite(MESSAGE, plan)
    [marker] = [line for line in footed.split(b"\r\n") if line.startswith(MARKER_HEADER.encode())]
    replay = MESSAGE.replace(b"Subject:", marker + b"\r\nSubject:")
    assert replay != MESSAGE and b"Message-ID: <m1@acme.example>" in replay
    assert not read_message_facts(replay, marker_key=b"k", **ENVELOPE).already_footed
    assert b"Footer" in rewrite(replay, plan)
    # the footed copy itself, line endings changed by an MTA on the way, still counts
    relayed = footed.replace(b"\r\n", b"\n")
    assert read_message_facts(relayed, marker_key=b"k", **ENVELOPE).already_footed


def test_encrypted_and_opaque_signed_detected() -> None:
    for ctype in (
        b'multipart/encrypted; protocol="application/pgp-encrypted"; boundary=x',
        b"application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
        b"application/x-pkcs7-mime; smime-type=signed-data",
    ):
        raw = (
            b"From: a@acme.example\r\nContent-Type: "
            + ctype
            + b"\r\n\r\n--x\r\n\r\nabc\r\n--x--\r\n"
        )
        assert read_message_facts(raw, **ENVELOPE).signed_or_encrypted


def test_existing_footer_mentions_are_seen() -> None:
    raw = (
        b"From: a@acme.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + "<p>Nous avons obtenu votre adresse lors du salon.</p>"
        '<p><a href="https://acme.example/unsub?id=1">Se désinscrire</a></p>'.encode()
    )
    facts = read_message_facts(raw, **ENVELOPE)
    assert facts.has_unsubscribe_link and facts.has_source_statement


def test_unsubscribe_word_far_from_any_link_does_not_count() -> None:
    raw = (
        b"From: a@acme.example\r\n\r\nTo unsubscribe, write to us.\r\n"
        + b"filler " * 200
        + b"\r\nhttps://acme.example/\r\n"
    )
    assert not read_message_facts(raw, **ENVELOPE).has_unsubscribe_link


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_gives_best_effort_facts(raw: bytes) -> None:
    facts = read_message_facts(
        b"From: x\r\nContent-Type: multipart/mixed; boundary=a\r\n" + raw, **ENVELOPE
    )
    assert facts.client_ip == "127.0.0.1"
    assert read_message_facts(raw, **ENVELOPE).mail_from == "bounce@acme.example"


def test_mention_scan_can_be_skipped_except_for_signed_messages() -> None:
    plain = (
        b"From: a@example.com\r\nSubject: s\r\n\r\n"
        b"Data source: trade fair. Unsubscribe: https://example.com/u/x\r\n"
    )
    assert read_message_facts(plain, **ENVELOPE).has_unsubscribe_link
    assert not read_message_facts(plain, scan_mentions=False, **ENVELOPE).has_unsubscribe_link
    signed = (CORPUS / "08-smime-multipart-signed.eml").read_bytes()
    assert read_message_facts(signed, **ENVELOPE).signed_or_encrypted
    assert read_message_facts(signed, scan_mentions=False, **ENVELOPE) == read_message_facts(
        signed, **ENVELOPE
    )


def test_the_rules_read_the_first_thousand_characters_of_the_subject() -> None:
    subject = "=?utf-8?q?RE=3A_unpaid_invoice?= " + "x " * 30_000
    facts = read_message_facts(f"Subject: {subject}\r\n\r\nhi\r\n".encode(), **ENVELOPE)
    assert facts.subject.startswith("RE: unpaid invoice x x")
    assert len(facts.subject) == MAX_SUBJECT
