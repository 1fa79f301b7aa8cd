"""Hypothesis strategies for random MIME trees (charsets, transfer encodings, line ends,
nesting), each built with what a reader must see and which bytes a rewrite must not touch."""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass, field

from hypothesis import strategies as st

__all__ = ["Built", "messages"]

ALPHABETS = {
    "us-ascii": "abcdefg XYZ <>&=.,;:!?-_\t",
    "utf-8": "abc déf ünï €漢字 🙂 <>&=",
    "iso-8859-1": "abc déf ünï çà ÿ <>&=",
    "windows-1252": "abc déf € œ “quotes” <>&=",
    "shift_jis": "abc 日本語のテキスト カタカナ <>&=",
}
HTML_SHAPES = [
    "<html><head><title>t</title></head><body>{}</body></html>",
    "<HTML><BODY bgcolor=white>{}</BODY></HTML>",
    "<div>{}</div>",
    "{}",
    "<html><body>{}</body></html><!-- trailer </body> -->",
]


@dataclass
class Built:
    """A generated message and its expectations."""

    raw: bytes
    visible: list[str] = field(default_factory=list)  # ids of text leaves that get the footer
    frozen: list[bytes] = field(default_factory=list)  # exact bytes that must survive
    mixed_without_text: bool = False


@dataclass
class Ctx:
    eol: bytes
    ids: itertools.count[int] = field(default_factory=itertools.count)


def _encode(payload: bytes, cte: str, eol: bytes) -> bytes:
    if cte == "base64":
        return base64.encodebytes(payload).replace(b"\n", eol)
    if cte == "quoted-printable":
        canonical = payload.replace(b"\r\n", b"\n")
        return binascii.b2a_qp(canonical, istext=True).replace(b"\n", eol)
    return payload


def _lines(draw: st.DrawFn, alphabet: str) -> list[str]:
    words = st.text(alphabet=alphabet, min_size=0, max_size=30)
    return draw(st.lists(words, min_size=0, max_size=6))


@st.composite
def text_leaf(draw: st.DrawFn, ctx: Ctx, attachment: bool = False) -> tuple[bytes, str]:
    ident = f"ID{next(ctx.ids):04d}"
    charset = draw(st.sampled_from(sorted(ALPHABETS)))
    html = draw(st.booleans())
    lines = [ident, *(line.strip() for line in _lines(draw, ALPHABETS[charset]))]
    eol = ctx.eol.decode()
    if html:
        body = draw(st.sampled_from(HTML_SHAPES)).format("<br>".join(lines))
    else:
        body = eol.join(lines) + draw(st.sampled_from(["", eol]))
    data = body.encode(charset)
    ctes = ["quoted-printable", "base64", "8bit"] + (["7bit"] if data.isascii() else [])
    cte = draw(st.sampled_from(ctes))
    headers = [
        f'Content-Type: text/{"html" if html else "plain"}; charset="{charset}"',
        f"Content-Transfer-Encoding: {cte}",
    ]
    if attachment:
        headers.append(f'Content-Disposition: attachment; filename="{ident}.txt"')
    raw = ctx.eol.join(h.encode() for h in headers) + ctx.eol * 2 + _encode(data, cte, ctx.eol)
    return raw, ident


def _binary_leaf(ctx: Ctx, ctype: str, extra: str, data: bytes) -> bytes:
    ident = f"ID{next(ctx.ids):04d}"
    headers = [f"Content-Type: {ctype}; name={ident}", "Content-Transfer-Encoding: base64", extra]
    return (
        ctx.eol.join(h.encode() for h in headers)
        + ctx.eol * 2
        + _encode(data + ident.encode(), "base64", ctx.eol)
    )


def _multipart(ctx: Ctx, subtype: str, parts: list[bytes], extra: str = "") -> bytes:
    boundary = f"=_b{next(ctx.ids):04d}_{subtype}".encode()
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary.decode()}"{extra}'.encode()]
    out.append(ctx.eol + b"This is a multi-part message in MIME format." + ctx.eol)
    for part in parts:
        out.append(b"--" + boundary + ctx.eol + part + ctx.eol)
    out.append(b"--" + boundary + b"--" + ctx.eol)
    return ctx.eol.join([out[0], b""]) + b"".join(out[1:])


@st.composite
def entity(draw: st.DrawFn, ctx: Ctx, depth: int) -> Built:
    kinds = ["text", "attachment", "binary", "calendar", "rfc822", "signed"]
    if depth < 3:
        kinds += ["alternative", "mixed", "related"] * 2
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        raw, ident = draw(text_leaf(ctx))
        return Built(raw, visible=[ident])
    if kind == "attachment":
        raw, _ = draw(text_leaf(ctx, attachment=True))
        return Built(raw, frozen=[raw])
    if kind == "binary":
        data = draw(st.binary(min_size=0, max_size=300))
        disposition = draw(st.sampled_from(["attachment; filename=a.bin", "inline"]))
        ctype = draw(st.sampled_from(["application/octet-stream", "image/png", "application/pdf"]))
        raw = _binary_leaf(ctx, ctype, f"Content-Disposition: {disposition}", data)
        return Built(raw, frozen=[raw])
    if kind == "calendar":
        ident = f"ID{next(ctx.ids):04d}"
        body = ctx.eol.join([b"BEGIN:VCALENDAR", b"UID:" + ident.encode(), b"END:VCALENDAR"])
        raw = b"Content-Type: text/calendar; method=REQUEST; charset=utf-8" + ctx.eol * 2 + body
        return Built(raw, frozen=[raw])
    if kind == "rfc822":
        inner, _ = draw(text_leaf(ctx))
        raw = (
            b"Content-Type: message/rfc822"
            + ctx.eol * 2
            + b"From: x@y.example"
            + ctx.eol
            + b"Subject: fwd"
            + ctx.eol
            + inner
        )
        return Built(raw, frozen=[raw])
    if kind == "signed":
        inner, _ = draw(text_leaf(ctx))
        sig = _binary_leaf(ctx, "application/pkcs7-signature", "", b"\x30\x82sig")
        raw = _multipart(
            ctx,
            "signed",
            [inner, sig],
            '; protocol="application/pkcs7-signature"; micalg=sha-256',
        )
        return Built(raw, frozen=[raw])
    count = draw(st.integers(min_value=1, max_value=3))
    children = [draw(entity(ctx, depth + 1)) for _ in range(count)]
    raw = _multipart(ctx, kind, [child.raw for child in children])
    return Built(
        raw,
        visible=[ident for child in children for ident in child.visible],
        frozen=[frozen for child in children for frozen in child.frozen],
        mixed_without_text=kind == "mixed" and not any(child.visible for child in children),
    )


@st.composite
def messages(draw: st.DrawFn) -> Built:
    ctx = Ctx(eol=draw(st.sampled_from([b"\r\n", b"\n"])))
    body = draw(entity(ctx, 0))
    top = [
        b"From: Acme <news@acme.example>",
        b"To: paul.martin@acme-industrie.fr",
        b"Subject: =?utf-8?q?Offre_sp=C3=A9ciale?=",
        b"Message-ID: <gen.1@acme.example>",
        b"MIME-Version: 1.0",
        b"X-Prospect-Campaign: spring",
        b"List-Unsubscribe: <https://old.example/u>",
    ]
    raw = ctx.eol.join(top) + ctx.eol + body.raw
    frozen = [part for part in body.frozen if part != body.raw]  # a lone root part gets new headers
    return Built(raw, body.visible, frozen, body.mixed_without_text)
