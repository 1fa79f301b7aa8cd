"""Properties of decide() over generated facts (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.model import (
    Action,
    Basis,
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    MessageFacts,
    RecipientFacts,
    SourceKind,
    Stage,
    Suppression,
    SuppressionOrigin,
)
from proxy.policy.engine import decide, resolve_action
from tests.unit.policy_factory import POLICY, TODAY

dates = st.one_of(st.none(), st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 1, 1)))
words = st.sampled_from(["running", "ski", "finance", "it", "facilities", "Running"])
addresses = st.sampled_from(
    [
        "marie@gmail.com",
        "Paul.Martin+x@Acme-Industrie.fr",
        "info@firma.de",
        "postmaster@client.fr",
        "contact@foretag.se",
        "jürgen@müller.de",
        '"odd person"@corp.com',
        "sean@eircom.net",
        "jan@wp.pl",
    ]
)
contacts = st.builds(
    Contact,
    email=st.just("x@example.com"),
    kind=st.one_of(st.none(), st.sampled_from(Kind)),
    country=st.one_of(st.none(), st.sampled_from(["FR", "DE", "IE", "PL", "AT", "GB", "xx", ""])),
    source=st.one_of(st.none(), st.sampled_from(["fair", " "])),
    source_kind=st.one_of(st.none(), st.sampled_from(SourceKind)),
    collected_at=dates,
    consent=st.sampled_from(ConsentState),
    consent_method=st.one_of(st.none(), st.sampled_from(ConsentMethod)),
    consent_proof=st.one_of(st.none(), st.just("proof")),
    consent_controller=st.one_of(st.none(), st.sampled_from(["acme", "sister", "ghost"])),
    partner_named=st.one_of(st.none(), st.booleans()),
    customer_of=st.lists(words, max_size=2).map(tuple),
    last_purchase=dates,
    objection_offered=st.one_of(st.none(), st.booleans()),
    marketing_refused=st.booleans(),
    job_function=st.one_of(st.none(), words),
    last_interaction=dates,
)
suppressions = st.builds(
    Suppression,
    scope=st.sampled_from(["global", "controller:acme", "controller:sister", "national:AT"]),
    origin=st.sampled_from(SuppressionOrigin),
    created_at=st.just(datetime(2026, 1, 1)),
    domain_wide=st.booleans(),
)
messages = st.builds(
    MessageFacts,
    mail_from=st.sampled_from(["news@acme.fr", "alerts@acme.fr", "", "x@evil.example"]),
    client_ip=st.sampled_from(["192.0.2.1", "not-an-ip", "::1"]),
    auth_user=st.one_of(st.none(), st.just("billing")),
    from_address=st.one_of(st.none(), st.sampled_from(["n@acme.fr", "n@sister.fr", "n@x.org"])),
    subject=st.text(max_size=30),
    campaign_id=st.one_of(st.none(), st.sampled_from(["running-2026", "lunch", "ghost"])),
    product=st.one_of(st.none(), words),
    category=st.one_of(st.none(), st.sampled_from(["review", "energy-renovation", "sport"])),
    targets=st.lists(words, max_size=2).map(tuple),
    source=st.one_of(st.none(), st.just("header source")),
    partner_offers=st.booleans(),
    repermission=st.booleans(),
    visible_recipients=st.integers(0, 3),
    signed_or_encrypted=st.booleans(),
    has_unsubscribe_link=st.booleans(),
    has_source_statement=st.booleans(),
    already_footed=st.booleans(),
)
recipients = st.builds(
    RecipientFacts,
    address=addresses,
    contact=st.one_of(st.none(), contacts),
    suppressions=st.lists(suppressions, max_size=2).map(tuple),
    first_message_at=st.one_of(st.none(), st.just(datetime(2026, 1, 1))),
    repermission_at=st.one_of(st.none(), st.just(datetime(2026, 1, 1))),
)
stages = st.sampled_from(Stage)
FAST = settings(max_examples=300, deadline=None)


@FAST
@given(recipients, st.one_of(st.none(), messages), stages)
def test_decide_never_raises_and_is_consistent(
    recipient: RecipientFacts, message: MessageFacts | None, stage: Stage
) -> None:
    if stage is Stage.DATA and message is None:
        stage = Stage.RCPT
    decision = decide(recipient, message, POLICY, TODAY, stage)
    assert decision.action in (Action.FORWARD, Action.REWRITE, Action.REJECT)
    assert decision.action is resolve_action(decision.findings)
    assert (decision.rewrite is not None) is (decision.action is Action.REWRITE)
    if decision.action is Action.REJECT:
        assert decision.deciding is not None and decision.deciding.action is Action.REJECT
    if stage is Stage.RCPT:
        assert decision.action is not Action.REWRITE


@FAST
@given(recipients, messages)
def test_global_suppression_always_rejects_commercial_mail(
    recipient: RecipientFacts, message: MessageFacts
) -> None:
    message = MessageFacts(**{**_fields(message), "mail_from": "news@acme.fr", "auth_user": None})
    entry = Suppression("global", SuppressionOrigin.ONE_CLICK, datetime(2026, 1, 1))
    suppressed = RecipientFacts(
        address=recipient.address,
        contact=recipient.contact,
        suppressions=(entry, *recipient.suppressions),
    )
    for stage in Stage:
        decision = decide(suppressed, message, POLICY, TODAY, stage)
        assert decision.action is Action.REJECT
        assert "suppressed" in decision.rule_ids


@FAST
@given(recipients, messages)
def test_commercial_forward_always_has_a_basis(
    recipient: RecipientFacts, message: MessageFacts
) -> None:
    decision = decide(recipient, message, POLICY, TODAY, Stage.DATA)
    if decision.action is Action.REWRITE:
        assert decision.basis is not Basis.NONE
        assert decision.rewrite is not None and decision.rewrite.list_unsubscribe
    if decision.action is Action.FORWARD:
        assert decision.basis is Basis.TRANSACTIONAL


@FAST
@given(recipients, messages)
def test_rcpt_refusal_implies_data_refusal(
    recipient: RecipientFacts, message: MessageFacts
) -> None:
    """RCPT only refuses what DATA would refuse too, whatever the content."""
    at_rcpt = decide(recipient, message, POLICY, TODAY, Stage.RCPT)
    if at_rcpt.action is Action.REJECT:
        assert decide(recipient, message, POLICY, TODAY, Stage.DATA).action is Action.REJECT


@FAST
@given(recipients, messages, st.sampled_from(["Unpaid invoice", "Votre facture impayée"]))
def test_adding_a_reject_never_forwards(
    recipient: RecipientFacts, message: MessageFacts, subject: str
) -> None:
    """A deceptive subject (one more reject finding) can only make the outcome stricter."""
    before = decide(recipient, message, POLICY, TODAY, Stage.DATA)
    worse = MessageFacts(**{**_fields(message), "subject": subject})
    after = decide(recipient, worse, POLICY, TODAY, Stage.DATA)
    if after.basis is not Basis.TRANSACTIONAL:
        assert after.action is Action.REJECT
    if before.action is Action.REJECT:
        assert after.action is Action.REJECT


def _fields(message: MessageFacts) -> dict[str, object]:
    return {name: getattr(message, name) for name in MessageFacts.__dataclass_fields__}
