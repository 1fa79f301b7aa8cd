"""The hot path's shortcuts give exactly what the general code they bypass gives."""

from __future__ import annotations

import base64
import binascii
import email.policy
import re
from email import quoprimime
from email.message import EmailMessage
from email.policy import SMTP
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.forward import _data_payload, _lf_endings
from proxy.mime import textpart
from proxy.mime.footer_render import FooterValues, _clean, _printable_line, render_footer
from proxy.mime.pieces import base64_body, line_pieces, qp_body, unbase64, unqp
from proxy.mime.textpart import foot_part
from proxy.mime.tree import (
    Entity,
    HeaderField,
    _boundary_with_email,
    _describe_simple,
    _describe_with_email,
    boundary_of,
    parse,
)
from proxy.policy.footer_templates import DEFAULT_FOOTERS

# -- Content-Type / Content-Disposition ----------------------------------------------------

_TYPES = [
    "text/plain",
    "Text/HTML",
    "multipart/alternative",
    "multipart/MIXED",
    "image/png",
    "application/pkcs7-mime",
    "text",
    "text/",
    "/plain",
    "text / plain",
    "a/b/c",
]
_PARAMS = [
    "charset=utf-8",
    'charset="UTF-8"',
    "CHARSET = iso-8859-1",
    'charset=""',
    'boundary="----=_Part_1_2.3"',
    "boundary=abc'def",
    'boundary="<x>"',
    'boundary=" padded "',
    "boundary=<y>",
    "name=file.txt",
    'NAME="a b.pdf"',
    "format=flowed",
    "delsp=yes",
    "charset*=utf-8''x",
    "charset*0=a",
    'x="a;b"',
    'x="a\\"b"',
    "charset=utf 8",
    "charset=(c)",
    'charset="\u00e9"',
    "=x",
    "noval",
    "boundary=a=b",
    "charset=utf-8 (comment)",
    "report-type=delivery-status",
]
_DISPOSITIONS = [
    None,
    "inline",
    "ATTACHMENT",
    "attachment; filename=a.pdf",
    "inline ",
    "attachment; filename*=utf-8''%C3%A9.pdf",
    "form-data; name=x",
    "in line",
]
_SEPARATORS = [";", "; ", " ;", ";\t", " ; "]


@st.composite
def _content_type(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(_TYPES))]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.sampled_from(_SEPARATORS)) + draw(st.sampled_from(_PARAMS)))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from([";", " ", "; ", ""])))
    return "".join(parts)


def _entity(content_types: list[str], disposition: str | None) -> Entity:
    fields = [HeaderField("Content-Type", 0, 0, value) for value in content_types]
    if disposition is not None:
        fields.append(HeaderField("Content-Disposition", 0, 0, disposition))
    return Entity(0, 0, 0, 0, tuple(fields))


def _attributes(entity: Entity) -> tuple[object, ...]:
    return entity.content_type, entity.charset, entity.disposition, entity.has_filename


def _assert_same_reading(content_types: list[str], disposition: str | None, default: str) -> None:
    fast, reference = _entity(content_types, disposition), _entity(content_types, disposition)
    _describe_with_email(reference, default)
    if _describe_simple(fast, default):
        assert _attributes(fast) == _attributes(reference)
    assert boundary_of(fast) == _email_boundary(reference)


def _email_boundary(entity: Entity) -> bytes | None:
    boundary = _boundary_with_email(entity)
    if not boundary or len(boundary) > 200 or not boundary.isascii():
        return None
    return boundary.encode("ascii")


@settings(max_examples=800, deadline=None)
@given(
    st.lists(_content_type(), max_size=2),
    st.sampled_from(_DISPOSITIONS),
    st.sampled_from(["text/plain", "message/rfc822"]),
)
def test_simple_content_headers_read_as_the_email_package_reads_them(
    content_types: list[str], disposition: str | None, default: str
) -> None:
    _assert_same_reading(content_types, disposition, default)


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_arbitrary_content_type_values_read_as_the_email_package_reads_them(value: str) -> None:
    _assert_same_reading([value], None, "text/plain")


def test_the_common_headers_take_the_fast_path() -> None:
    for value in ("text/plain; charset=us-ascii", 'multipart/alternative; boundary="b1"'):
        entity = _entity([value], None)
        assert _describe_simple(entity, "text/plain")
    assert boundary_of(_entity(['multipart/mixed; boundary="=_b 1 "'], None)) == b"=_b 1"
    assert not _describe_simple(_entity(["text/plain"], "attachment; filename=a.pdf"), "x/y")


# -- DATA payload ---------------------------------------------------------------------------

_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def _reference_payload(message: bytes) -> bytes:
    data = _LINE_ENDINGS.sub(b"\r\n", message)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _LEADING_DOT.sub(b"..", data) + b".\r\n"


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\r\n.", b"x y"])),
    st.integers(min_value=1, max_value=12),
)
def test_data_payload_matches_the_general_transformation(chunks: list[bytes], piece: int) -> None:
    """Whole, and in pieces (a large message is normalised piece by piece)."""
    message = b"".join(chunks)
    assert _data_payload(message) == _reference_payload(message)
    assert _data_payload(message, piece) == _reference_payload(message)
    pieces = list(line_pieces(message, piece))
    assert b"".join(pieces) == message
    assert all(p.endswith(b"\n") for p in pieces[:-1])  # no line ending cut in two


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\r\r\n", b"x y"])))
def test_outbox_line_endings_match_the_regular_expression(chunks: list[bytes]) -> None:
    message = b"".join(chunks)
    assert _lf_endings(message) == _LINE_ENDINGS.sub(b"\n", message)


# -- transfer encodings in pieces (a 25 MB part must not be one C call holding the GIL) -----

_TEXT_UNITS = [b"a", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\r\r\n", b"=", b".", b"\xe9", b"x" * 90]


def _qp_whole(payload: bytes, eol: bytes) -> bytes:
    """The encoding as it was done in one call."""
    canonical = payload.replace(b"\r\n", b"\n")
    encoded = binascii.b2a_qp(canonical, quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\r", b"=0D").replace(b"\n", eol)


def _b64_whole_decode(body: bytes) -> bytes | None:
    clean = body.translate(None, b" \t\r\n=")
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except binascii.Error:
        return None


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(_TEXT_UNITS)),
    st.integers(min_value=1, max_value=40),
    st.sampled_from([b"\r\n", b"\n"]),
)
def test_quoted_printable_in_pieces_is_the_whole(
    chunks: list[bytes], piece: int, eol: bytes
) -> None:
    payload = b"".join(chunks)
    encoded = qp_body(payload, eol, piece)
    assert encoded == _qp_whole(payload, eol)
    assert unqp(encoded, piece) == binascii.a2b_qp(encoded)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=200))
def test_base64_in_pieces_is_the_whole(payload: bytes, piece: int) -> None:
    encoded = base64_body(payload, b"\r\n", piece)
    assert encoded == base64.encodebytes(payload).replace(b"\n", b"\r\n")
    assert unbase64(encoded, piece) == payload


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from([b"QUJD", b"ZA", b"=", b"\r\n", b" ", b"@", b"-", b"Zm9v", b"x"])),
    st.integers(min_value=1, max_value=24),
)
def test_lenient_base64_decoding_in_pieces_is_the_whole(chunks: list[bytes], piece: int) -> None:
    """Junk characters, stray padding, dangling sextets: the same answer (or the same refusal)
    as the one call it replaces."""
    body = b"".join(chunks)
    try:
        decoded: bytes | None = unbase64(body, piece)
    except binascii.Error:
        decoded = None
    assert decoded == _b64_whole_decode(body)


# -- footer ---------------------------------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(
    st.text(
        st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2000\u2028\u200b\u202eab.\x00\x7f"))
    )
)
def test_clean_shortcut_matches_the_long_way(value: str) -> None:
    assert _clean(value) == _printable_line(value)


def test_each_recipient_gets_its_own_link_from_the_shared_rendering() -> None:
    def values(token: str) -> FooterValues:
        return FooterValues(
            legal_name="Fair & Co",
            postal_address="1 rue X",
            source="<b>salon</b>",
            unsubscribe_url=f"https://r.example/u/{token}?a=1&b=2",
            unsubscribe_mailto=f"mailto:unsubscribe@r.example?subject={token}",
        )

    for html in (False, True):
        first = render_footer(DEFAULT_FOOTERS["en"], values("T1"), html, True)
        second = render_footer(DEFAULT_FOOTERS["en"], values("T2"), html, True)
        assert "T1" in first and "T2" not in first
        assert "T2" in second and "T1" not in second
        assert first.replace("T1", "T2") == second
    html_footer = render_footer(DEFAULT_FOOTERS["en"], values("T3"), True, False)
    assert "?a=1&amp;b=2" in html_footer and "Fair &amp; Co" in html_footer
    assert "&lt;b&gt;salon&lt;/b&gt;" in html_footer


# -- a footed quoted-printable part: only its tail encoded again ---------------------------

_QP_TEXT = st.lists(
    st.sampled_from(
        [
            *("Découvrez ", "nos presses", " ", "\t", "=", "=3D", "é", "€", "\n", "\r\n"),
            *("x" * 90, "</body>", "</html>", "<p>", ".", "From "),
        ]
    ),
    max_size=120,
).map("".join)


def _whole_part(raw: bytes, data: bytes, inserted: textpart._Inserted, eol: bytes) -> bytes:
    """The old way, as the oracle: the whole footed part encoded again."""
    return qp_body(inserted.payload, eol)


def _qp_part(text: str, html: bool, eol: bytes) -> tuple[bytes, Entity]:
    """A message whose one part is `text`, quoted-printable as the email package writes it."""
    message = EmailMessage()
    message["Subject"] = "t"
    message.set_content(text, subtype="html" if html else "plain", cte="quoted-printable")
    raw = message.as_bytes(policy=SMTP if eol == b"\r\n" else email.policy.default)
    return raw, parse(raw)


@settings(max_examples=1500, deadline=None)
@given(_QP_TEXT, st.booleans(), st.sampled_from([b"\r\n", b"\n"]))
def test_a_footed_quoted_printable_part_decodes_as_when_encoded_whole(
    text: str, html: bool, eol: bytes
) -> None:
    """The part's own encoded lines are kept up to the footer's place; decoded by the email
    package's own quoted-printable decoder, the copy reads exactly as when the whole part was
    encoded again (the old way)."""
    raw, root = _qp_part(text, html, eol)
    footer = "Vous recevez ce message car… Désinscription : https://relay.example/u/T=1"
    edit = foot_part(raw, root, footer, eol)
    with patch.object(textpart, "_qp_tail_edit", _whole_part):
        whole = foot_part(raw, root, footer, eol)
    assert edit is not None and whole is not None
    assert (edit.cte, edit.relabel_utf8) == (whole.cte, whole.relabel_utf8)
    assert quoprimime.decode(edit.body.decode("ascii")) == quoprimime.decode(
        whole.body.decode("ascii")
    )
    longest = max(76, *(len(line) for line in raw[root.body_start :].splitlines()))
    assert all(len(line) <= longest for line in edit.body.splitlines())


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from([b"x", b"=3D", b"=C3=A9", b"a b", b"=\r\n", b"\r\n", b"\n"])),
    st.sampled_from([b"", b"\r\n", b"=", b"=\r\n"]),
    st.booleans(),
    st.integers(min_value=0, max_value=400),
)
def test_any_quoted_printable_body_decodes_as_when_encoded_whole(
    chunks: list[bytes], ending: bytes, html: bool, filler: int
) -> None:
    """Bodies as senders write them, not only as the email package does: a last line without
    a line feed, a trailing soft line break, bare LFs, and (HTML) text after the closing tag
    that the footer goes before. (White space before a line end is not valid quoted-printable:
    decoders may drop it, so the sender's kept lines and re-encoded ones could differ there.)"""
    body = b"".join(chunks) + ending
    if html:
        body = b"<html><body>" + body + b"</body></html>\r\n" + b"\r\n" * filler
    kind = b"text/html" if html else b"text/plain"
    raw = (
        b"Subject: t\r\nContent-Type: " + kind + b"; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body
    )
    root = parse(raw)
    edit = foot_part(raw, root, "Désinscription : https://relay.example/u/T", b"\r\n")
    with patch.object(textpart, "_qp_tail_edit", _whole_part):
        whole = foot_part(raw, root, "Désinscription : https://relay.example/u/T", b"\r\n")
    assert (edit is None) == (whole is None)
    if edit is not None and whole is not None:
        assert quoprimime.decode(edit.body.decode("ascii")) == quoprimime.decode(
            whole.body.decode("ascii")
        )


def test_a_long_footed_part_keeps_its_encoded_lines() -> None:
    """Proof that the shortcut is taken: a 100 KB part keeps all but its last lines as the
    sender encoded them."""
    paragraph = "Découvrez nos presses hydrauliques : 15 % de remise, livraison offerte.\n"
    for html in (False, True):
        text = paragraph * 1400
        if html:
            text = "<html><body><p>" + text + "</p></body></html>\n"
        raw, root = _qp_part(text, html, b"\r\n")
        body = raw[root.body_start : root.end]
        edit = foot_part(raw, root, "Désinscription : https://relay.example/u/T", b"\r\n")
        assert edit is not None
        kept = body[: len(body) - 400]
        assert edit.body.startswith(kept), html
