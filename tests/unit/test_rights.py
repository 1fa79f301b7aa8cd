"""The recipient's side, pure parts: texts per language, basis detail, deletion date."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from proxy.model import Basis, ConsentMethod, ConsentState, Contact
from proxy.policy.policy_file import Retention
from proxy.rights.detail import basis_detail, parse_detail
from proxy.rights.explain import BasisSource, deletion_date, explain
from proxy.rights.texts import FIELD_LABELS, TEXTS
from proxy.web.i18n import STRINGS


def test_every_page_language_has_every_text() -> None:
    assert set(TEXTS) == set(STRINGS) == set(FIELD_LABELS)
    for language in TEXTS:
        assert set(TEXTS[language]) == set(TEXTS["en"]), language
        assert set(FIELD_LABELS[language]) == {f.name for f in fields(Contact)}, language


def test_basis_detail_keeps_what_the_basis_rested_on() -> None:
    facts = {"product": "running", "job_function": "finance", "targets": "finance;it"}
    assert parse_detail(basis_detail(Basis.SOFT_OPTIN, facts)) == {"product": "running"}
    assert parse_detail(basis_detail(Basis.B2B_RELEVANCE, facts)) == {
        "job_function": "finance",
        "targets": "finance;it",
    }
    assert basis_detail(Basis.GENERIC_OPTOUT, facts) is None
    assert parse_detail("not json") == {} and parse_detail("[1]") == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"collected_at": date(2025, 3, 31)}, date(2028, 3, 31)),
        ({"collected_at": date(2024, 2, 29)}, date(2027, 2, 28)),
        ({"collected_at": date(2024, 1, 1), "last_purchase": date(2025, 6, 1)}, date(2030, 6, 1)),
        ({}, None),
    ],
)
def test_deletion_date_follows_the_purge_windows(
    fields: dict[str, date], expected: date | None
) -> None:
    retention = Retention(prospect_months=36, customer_months=60)
    assert deletion_date(Contact(email="a@b.example", **fields), retention) == expected


def test_without_a_send_record_the_basis_is_recomputed_and_labelled() -> None:
    contact = Contact(
        email="a@b.example",
        consent=ConsentState.GRANTED,
        consent_at=date(2025, 1, 2),
        consent_method=ConsentMethod.FORM,
    )
    why = explain(contact, None, Retention())
    assert why.basis is Basis.CONSENT and why.basis_source is BasisSource.RECOMPUTED
    assert why.detail == {"consent_at": "2025-01-02", "consent_method": "form"}
    nothing = explain(None, None, Retention())
    assert nothing.basis_source is BasisSource.UNKNOWN and not nothing.in_register
