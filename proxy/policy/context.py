"""The frozen context every rule reads: raw facts plus the derivations computed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from proxy.model import Basis, Contact, Kind, MessageFacts, RecipientFacts, SourceKind, Stage
from proxy.policy.countries import CountryProfile
from proxy.policy.policy_file import Controller, Policy

__all__ = [
    "CampaignFacts",
    "ConsentEval",
    "ConsentStatus",
    "RetentionEval",
    "RuleContext",
    "SoftOptinEval",
    "SoftStatus",
]


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """The message's campaign facts: X-Prospect-* headers over the policy's campaign preset."""

    campaign_id: str | None = None
    product: str | None = None
    category: str | None = None
    targets: tuple[str, ...] = ()
    source: str | None = None
    partner_offers: bool = False
    repermission: bool = False
    controller: str | None = None


class ConsentStatus(StrEnum):
    VALID = "valid"
    NONE = "none"  # no consent recorded
    INVALID = "invalid"  # recorded but defective: treated as none (rule consent-invalid)
    WITHDRAWN = "withdrawn"  # rule objected


@dataclass(frozen=True, slots=True)
class ConsentEval:
    status: ConsentStatus
    code: str = ""  # e.g. "consent.pre-ticked"
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status is ConsentStatus.VALID


class SoftStatus(StrEnum):
    SATISFIED = "satisfied"
    PENDING = "pending"  # at RCPT: every condition known so far holds; the product is unknown
    INACTIVE = "inactive"  # every condition holds except the last purchase is too old
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SoftOptinEval:
    status: SoftStatus
    code: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RetentionEval:
    is_customer: bool  # customer of this controller, last purchase within the customer window
    anchor: date | None  # the date the retention window runs from
    stale: bool
    repermission: bool  # the one re-permission message is allowed now
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may read; built once per recipient, stage and controller."""

    stage: Stage
    today: date
    policy: Policy
    recipient: RecipientFacts
    message: MessageFacts | None  # None at RCPT when the envelope was not given
    address: str  # normalised
    contact: Contact | None
    kind: Kind
    country: str
    profile: CountryProfile
    controller_id: str
    controller: Controller
    campaign: CampaignFacts | None  # None at RCPT: the headers are not known yet
    transactional: bool
    consent: ConsentEval
    soft_optin: SoftOptinEval
    retention: RetentionEval
    needs_opt_in: bool  # the kind needs consent or soft opt-in in this country
    source: str | None  # data source text shown in the footer
    source_kind: SourceKind | None
    first_contact: bool  # the relay has not sent this contact a commercial message yet
    basis: Basis  # the legal basis available (transactional and re-permission aside)

    @property
    def at_data(self) -> bool:
        return self.stage is Stage.DATA
