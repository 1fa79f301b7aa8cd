"""Frozen value types shared by every layer (SMTP, service, engine, store, web).

They carry no behaviour beyond formatting, so the compliance engine can take them as plain
data and tests can build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

__all__ = [
    "Action",
    "Basis",
    "ConsentMethod",
    "ConsentState",
    "Contact",
    "Finding",
    "Kind",
    "MessageFacts",
    "PolicyMode",
    "RecipientDecision",
    "RecipientFacts",
    "Record",
    "RewritePlan",
    "RewriteStep",
    "SourceKind",
    "Stage",
    "Suppression",
    "SuppressionOrigin",
]


class Action(StrEnum):
    """What happens to one recipient; precedence TEMPFAIL > REJECT > REWRITE > FORWARD."""

    FORWARD = "forward"
    REWRITE = "rewrite"
    REJECT = "reject"
    TEMPFAIL = "tempfail"


class PolicyMode(StrEnum):
    """enforce: refuse what the law forbids; monitor: decide and record, but forward."""

    ENFORCE = "enforce"
    MONITOR = "monitor"


class Stage(StrEnum):
    RCPT = "rcpt"  # rules that need only the envelope and the register
    DATA = "data"  # rules that need the message (headers, campaign facts)


class Kind(StrEnum):
    B2C = "b2c"
    B2B = "b2b"
    GENERIC = "generic"


class SourceKind(StrEnum):
    DIRECT = "direct"
    PARTNER = "partner"
    BROKER = "broker"
    PUBLIC = "public"
    EVENT = "event"
    SCRAPED = "scraped"
    UNKNOWN = "unknown"


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    NONE = "none"


class ConsentMethod(StrEnum):
    CHECKBOX = "checkbox"
    DOUBLE_OPT_IN = "double-opt-in"
    FORM = "form"
    PRE_TICKED = "pre-ticked"
    TERMS = "terms"


class SuppressionOrigin(StrEnum):
    ONE_CLICK = "one-click"  # RFC 8058 POST from a mailbox provider
    PAGE = "page"  # the unsubscribe page's button
    MAILTO = "mailto"
    IMPORT = "import"
    MANUAL = "manual"
    COMPLAINT = "complaint"  # a spam complaint (ARF report or provider event)
    BOUNCE = "bounce"  # a hard bounce, or soft bounces over the policy's limit
    OBJECTION = "objection"  # consent withdrawn / marketing refused in the register
    ERASURE = "erasure"  # kept when a person's data was erased


class Basis(StrEnum):
    """The legal basis a forward relies on (logged and reported)."""

    CONSENT = "consent"
    SOFT_OPTIN = "soft-optin"
    B2B_RELEVANCE = "b2b-relevance"
    GENERIC_OPTOUT = "generic-optout"
    REPERMISSION = "repermission"
    TRANSACTIONAL = "transactional"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Contact:
    """One person or mailbox of the register: every column of the contacts CSV."""

    email: str
    kind: Kind | None = None
    country: str | None = None  # ISO 3166 alpha-2, upper case ("UK" accepted for GB)
    source: str | None = None
    source_kind: SourceKind | None = None
    collected_at: date | None = None
    consent: ConsentState = ConsentState.NONE
    consent_at: date | None = None
    consent_method: ConsentMethod | None = None
    consent_proof: str | None = None
    consent_controller: str | None = None
    partner_named: bool | None = None
    customer_of: tuple[str, ...] = ()  # product families bought
    last_purchase: date | None = None
    objection_offered: bool | None = None
    marketing_refused: bool = False
    job_function: str | None = None
    last_interaction: date | None = None
    # A contract in progress with the controller runs until this day (the FR sector ban's
    # only exception); None: no contract known, the ban applies.
    contract_until: date | None = None


@dataclass(frozen=True, slots=True)
class Suppression:
    """One objection that matches an address (by its hash or by its domain)."""

    scope: str  # "global", "controller:<id>", "national:<CC>"
    origin: SuppressionOrigin
    created_at: datetime
    domain_wide: bool = False


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    """Everything the store knows about one envelope recipient."""

    address: str  # as given in RCPT TO (normalised only for lookups)
    contact: Contact | None = None
    suppressions: tuple[Suppression, ...] = ()
    first_message_at: datetime | None = None  # the relay already sent the first-contact notice
    repermission_at: datetime | None = None  # the one re-permission message was sent


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the message and its envelope say, read once at DATA (or at RCPT, partially)."""

    mail_from: str  # envelope sender, "" for the null sender
    client_ip: str
    auth_user: str | None = None
    from_address: str | None = None  # header From
    subject: str = ""
    campaign_id: str | None = None
    product: str | None = None
    category: str | None = None
    targets: tuple[str, ...] = ()
    source: str | None = None
    partner_offers: bool = False
    repermission: bool = False
    visible_recipients: int = 0  # distinct addresses in To and Cc
    signed_or_encrypted: bool = False
    has_unsubscribe_link: bool = False
    has_source_statement: bool = False
    already_footed: bool = False  # carries the relay's marker from an earlier pass


class RewriteStep(StrEnum):
    """One edit a REWRITE finding asks the mime layer for; the engine turns the steps of all
    findings into one RewritePlan, so a new rewrite rule needs no change in the engine."""

    FOOTER = "footer"
    FIRST_CONTACT_NOTICE = "first-contact-notice"
    LIST_UNSUBSCRIBE = "list-unsubscribe"
    SPLIT_RECIPIENTS = "split-recipients"


class Record(StrEnum):
    """A fact the relay must write because of a finding (the service commits it)."""

    OBJECTION = "objection"  # a global suppression for an objected contact
    REPERMISSION = "repermission"  # the one re-permission message of a stale prospect


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one recipient."""

    rule: str  # stable rule ID from RULES.md, e.g. "b2c-no-consent"
    action: Action
    reason: str  # human-readable, safe to put in an SMTP reply
    reason_code: str = ""  # namespaced detail, e.g. "consent.pre-ticked"
    rewrite: RewriteStep | None = None  # for REWRITE findings: the edit asked for
    record: Record | None = None  # what the relay must write when this finding holds


@dataclass(frozen=True, slots=True)
class RewritePlan:
    """What the mime layer must add for one recipient; decided by the engine."""

    language: str  # footer template key, e.g. "fr"
    controller: str  # controller id in the policy
    source: str  # data source text shown to the recipient
    first_contact_notice: bool = False
    footer: bool = True
    list_unsubscribe: bool = True
    split_recipients: bool = False  # To/Cc rewritten to show only this recipient


@dataclass(frozen=True, slots=True)
class RecipientDecision:
    address: str
    action: Action
    stage: Stage
    basis: Basis = Basis.NONE
    findings: tuple[Finding, ...] = ()  # every hit, in rule order
    rewrite: RewritePlan | None = None
    facts: dict[str, str] = field(default_factory=dict)  # the facts used, for explain/log
    record_first_message: bool = False
    record_repermission: bool = False
    record_objection: bool = False  # add the global suppression (origin objection)
    monitored: RecipientDecision | None = None  # monitor mode: the refusal not enforced

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule that hit, acting or not (for `explain`)."""
        return tuple(finding.rule for finding in self.findings)

    @property
    def acting(self) -> tuple[Finding, ...]:
        """The findings that made the action: a refused recipient's refusing rules (no
        rewrite rules: nothing was rewritten), a rewritten one's rewrite rules. This is what
        the log line, the audit record, `report` and /metrics name, deciding rule first."""
        return tuple(finding for finding in self.findings if finding.action is self.action)

    @property
    def acting_rules(self) -> tuple[str, ...]:
        return tuple(finding.rule for finding in self.acting)

    @property
    def deciding(self) -> Finding | None:
        """The finding that set the action (first reject/tempfail), for the SMTP reply."""
        for finding in self.findings:
            if finding.action is self.action:
                return finding
        return None
