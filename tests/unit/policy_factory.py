"""Builders for the pure engine's tests: one policy, contacts, messages and a `run` helper."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from proxy.model import (
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    MessageFacts,
    RecipientDecision,
    RecipientFacts,
    SourceKind,
    Stage,
    Suppression,
    SuppressionOrigin,
)
from proxy.policy.engine import Evaluation, evaluate
from proxy.policy.policy_file import Policy
from proxy.policy.rules import RULES, Rule

TODAY = date(2026, 12, 1)

POLICY_DATA: dict[str, Any] = {
    "controllers": {
        "acme": {
            "legal_name": "Acme SAS",
            "postal_address": "1 rue de la Paix, 75002 Paris, France",
            "domains": ["acme.fr", "acme-shop.example"],
            "privacy_url": "https://acme.fr/privacy",
            "default": True,
        },
        "sister": {
            "legal_name": "Acme Sister SARL",
            "postal_address": "2 rue de Lyon, 69001 Lyon, France",
            "domains": ["sister.fr"],
            "privacy_url": "https://sister.fr/privacy",
        },
    },
    "transactional": {
        "senders": ["alerts@acme.fr", "notify.acme.fr"],
        "sender_networks": ["192.0.2.0/24"],  # message()'s client
        "clients": ["billing"],
    },
    "campaigns": {
        "running-2026": {"product": "running", "category": "sport", "controller": "acme"},
        "lunch": {"targets": ["facilities"], "source": "trade fair 2025"},
        "sister-running": {"product": "running", "controller": "sister"},
    },
}


def make_policy(**changes: Any) -> Policy:
    data = {**POLICY_DATA, **changes}
    return Policy.model_validate(data)


POLICY = make_policy()


def contact(email: str, **fields: Any) -> Contact:
    return Contact(email=email, **fields)


def consented(email: str, **fields: Any) -> Contact:
    """A contact with a valid consent to acme (S1)."""
    base: dict[str, Any] = {
        "kind": None,
        "country": "FR",
        "source": "newsletter form on acme.fr",
        "source_kind": SourceKind.DIRECT,
        "collected_at": date(2025, 3, 10),
        "consent": ConsentState.GRANTED,
        "consent_at": date(2025, 3, 10),
        "consent_method": ConsentMethod.CHECKBOX,
        "consent_proof": "form-log-123",
        "consent_controller": "acme",
    }
    base.update(fields)
    return Contact(email=email, **base)


def customer(email: str, **fields: Any) -> Contact:
    """A soft opt-in customer of acme who bought running shoes in 2025-11 (S4)."""
    base: dict[str, Any] = {
        "country": "FR",
        "source": "your order on acme-shop.example",
        "source_kind": SourceKind.DIRECT,
        "collected_at": date(2025, 11, 15),
        "customer_of": ("running",),
        "last_purchase": date(2025, 11, 15),
        "objection_offered": True,
        "consent_controller": "acme",
    }
    base.update(fields)
    return Contact(email=email, **base)


def prospect(email: str, **fields: Any) -> Contact:
    """A FR b2b prospect met at a trade fair (S8)."""
    base: dict[str, Any] = {
        "kind": Kind.B2B,
        "country": "FR",
        "source": "trade fair 2025",
        "source_kind": SourceKind.EVENT,
        "collected_at": date(2025, 10, 1),
        "job_function": "finance",
    }
    base.update(fields)
    return Contact(email=email, **base)


def stale_prospect(email: str, **fields: Any) -> Contact:
    """A prospect collected in May 2021 and last heard from in January 2022: past the
    re-permission horizon (S8)."""
    return prospect(
        email, **{"collected_at": date(2021, 5, 1), "last_interaction": date(2022, 1, 15), **fields}
    )


def message(**fields: Any) -> MessageFacts:
    base: dict[str, Any] = {
        "mail_from": "news@acme.fr",
        "client_ip": "192.0.2.10",
        "from_address": "news@acme.fr",
        "subject": "Our new collection",
    }
    base.update(fields)
    return MessageFacts(**base)


def suppression(scope: str = "global", **fields: Any) -> Suppression:
    base: dict[str, Any] = {
        "origin": SuppressionOrigin.ONE_CLICK,
        "created_at": datetime(2026, 11, 30, 12, 0),
    }
    base.update(fields)
    return Suppression(scope=scope, **base)


def evaluation(
    address: str,
    record: Contact | None = None,
    msg: MessageFacts | None = None,
    *,
    stage: Stage = Stage.DATA,
    policy: Policy = POLICY,
    today: date = TODAY,
    no_message: bool = False,
    rules: tuple[Rule, ...] = RULES,
    **recipient: Any,
) -> Evaluation:
    facts = RecipientFacts(address=address, contact=record, **recipient)
    if msg is None and not no_message:
        msg = message()
    return evaluate(facts, msg, policy, today, stage, rules)


def run(
    address: str, record: Contact | None = None, msg: MessageFacts | None = None, **kw: Any
) -> RecipientDecision:
    return evaluation(address, record, msg, **kw).decision


def refused_as_operational(address: str) -> bool:
    """The `operational-address` rule hits for the address (through the engine, at RCPT)."""
    return "operational-address" in run(address, stage=Stage.RCPT).rule_ids
