"""Issue 13.5: every spelling of one mailbox gives one normal form and one hash, whichever
door it comes in by (SMTP lookup, CSV import fast or slow path, CLI, suppression hashes)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from proxy.policy.address import normalise_address
from proxy.store.contacts_csv import check_email
from proxy.store.hashing import address_hash, sha256_hash

KEY = b"property-test-key"

_ATOM = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_+'", min_size=1, max_size=8)
_LOCAL = st.lists(_ATOM, min_size=1, max_size=3).map(".".join)
_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
_DOMAIN = st.tuples(st.lists(_LABEL, min_size=1, max_size=3), st.sampled_from(["fr", "de", "com"]))


def _case(text: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if flip else c for c, flip in zip(text, flips * len(text), strict=False)
    )


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(canonical form, several spellings of that same mailbox)."""
    local = draw(_LOCAL)
    labels, tld = draw(_DOMAIN)
    domain = ".".join([*labels, tld])
    canonical = f"{local}@{domain}"
    flips = draw(st.lists(st.booleans(), min_size=1, max_size=8))
    escaped = "".join("\\" + c if c == "." else c for c in local)
    forms = [
        canonical,
        f'"{local}"@{domain}',
        f'"{escaped}"@{domain}',
        _case(f'"{local}"@{domain}', flips),
        _case(canonical, flips),
        f"  <{canonical}>  ",
        f"{local}@{domain}.",
        f'"{local}"@{_case(domain, flips)}.',
    ]
    return canonical, forms


@given(spellings())
def test_every_spelling_of_an_address_has_one_hash(case: tuple[str, list[str]]) -> None:
    canonical, forms = case
    assert {normalise_address(form) for form in forms} == {canonical}
    assert {address_hash(KEY, form) for form in forms} == {address_hash(KEY, canonical)}
    assert {sha256_hash(form) for form in forms} == {sha256_hash(canonical)}


@given(spellings())
def test_the_csv_import_stores_every_spelling_in_the_normal_form(
    case: tuple[str, list[str]],
) -> None:
    canonical, forms = case
    for form in forms:
        if form.strip() == form and not form.startswith("<"):  # a CSV cell as tools write it
            assert check_email(form) == canonical, form


@given(st.text(max_size=40))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_address(text)
    assert normalise_address(once) == once


def test_quoted_local_parts_that_need_their_quotes_keep_them() -> None:
    assert normalise_address('"John Doe"@Example.com') == '"john doe"@example.com'
    assert normalise_address('"a\\"b"@x.fr') == '"a\\"b"@x.fr'
    assert address_hash(KEY, '"anne.marie"@example.fr') == address_hash(
        KEY, "anne.marie@example.fr"
    )
