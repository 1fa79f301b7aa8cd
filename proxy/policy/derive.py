"""Pure derivations computed once per recipient: campaign facts, controller, consent validity,
soft opt-in, retention and the available legal basis. Rules only read the results.
"""

from __future__ import annotations

import calendar
from datetime import date

from proxy.model import (
    Basis,
    ConsentMethod,
    ConsentState,
    Contact,
    Kind,
    MessageFacts,
    RecipientFacts,
    SourceKind,
    Stage,
)
from proxy.networks import in_networks
from proxy.policy.address import domain_of, normalise_address
from proxy.policy.classify import classify_normalised, country_of_normalised
from proxy.policy.context import (
    CampaignFacts,
    ConsentEval,
    ConsentStatus,
    RetentionEval,
    RuleContext,
    SoftOptinEval,
    SoftStatus,
)
from proxy.policy.countries import CountryProfile, Regime, SoftOptinExtra
from proxy.policy.lastcontact import last_contact
from proxy.policy.policy_file import Policy

__all__ = [
    "INDIRECT_SOURCES",
    "build_context",
    "campaign_facts",
    "consent_eval",
    "envelope_transactional",
    "months_before",
    "owning_controller",
    "relationship_controller",
    "resolve_controller",
    "retention_eval",
    "soft_optin_eval",
]


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the month's end (2026-03-31 - 1 -> 02-28)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last_day))


def campaign_facts(message: MessageFacts, policy: Policy) -> CampaignFacts:
    """Merge the message's X-Prospect-* facts over the policy's `[campaigns.<id>]` preset."""
    preset = policy.campaigns.get(message.campaign_id) if message.campaign_id else None
    product = _lower(message.product) or (preset.product if preset else None)
    category = _lower(message.category) or (preset.category if preset else None)
    targets = tuple(t.strip().lower() for t in message.targets if t.strip())
    source = (message.source or "").strip() or (preset.source if preset else None)
    return CampaignFacts(
        campaign_id=message.campaign_id,
        product=product,
        category=category,
        targets=targets or (preset.targets if preset else ()),
        source=source,
        partner_offers=message.partner_offers or bool(preset and preset.partner_offers),
        repermission=message.repermission or bool(preset and preset.repermission),
        controller=preset.controller if preset else None,
    )


def _lower(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


def envelope_transactional(message: MessageFacts, policy: Policy) -> bool:
    """Whether the AUTH user or the client IP is marked transactional, or the envelope sender
    is, from a session that vouches for it (authenticated, or a client in sender_networks)."""
    compiled = policy.compiled
    if message.auth_user is not None and message.auth_user in compiled.tx_users:
        return True
    client = message.client_ip or ""
    if in_networks(client, compiled.tx_networks):
        return True
    vouched = message.auth_user is not None or in_networks(client, compiled.tx_sender_networks)
    if message.mail_from and vouched:
        sender = normalise_address(message.mail_from)
        return sender in compiled.tx_addresses or domain_of(sender) in compiled.tx_domains
    return False


def owning_controller(address: str | None, policy: Policy) -> str | None:
    """The controller whose domains include the address's domain (or a parent of it)."""
    if not address:
        return None
    labels = domain_of(normalise_address(address)).split(".")
    by_domain = policy.compiled.controller_by_domain
    for i in range(len(labels) - 1):
        found = by_domain.get(".".join(labels[i:]))
        if found is not None:
            return found
    return None


def resolve_controller(campaign: CampaignFacts, message: MessageFacts, policy: Policy) -> str:
    """The campaign's controller, else the one owning the From domain, else the default."""
    return (
        campaign.controller
        or owning_controller(message.from_address, policy)
        or policy.compiled.default_controller
    )


def relationship_controller(contact: Contact, policy: Policy) -> str:
    """Whose consent or customer relationship a contact is: `consent_controller` or default."""
    return contact.consent_controller or policy.compiled.default_controller


# Source kinds whose consent was collected by someone other than the sending controller.
INDIRECT_SOURCES = frozenset({SourceKind.PARTNER, SourceKind.BROKER})


def consent_eval(contact: Contact | None, controller_id: str, policy: Policy) -> ConsentEval:
    """Consent validity; a defective consent is no consent, and the reason names the defect.

    Prior consent must be provable (GDPR art. 7(1), CPCE L.34-5): without proof or without
    its date it is refused (PERFORMECLIC). Consent for a sister controller of the policy is
    that controller's. Consent collected by anyone else (a partner or broker, or a third
    party named in `consent_controller`) is indirect: valid only when the collector named
    this controller (`partner_named = yes`), as the CNIL requires of partner lists.
    """
    if contact is None or contact.consent is ConsentState.NONE:
        return ConsentEval(ConsentStatus.NONE, "consent.missing", "no consent recorded")
    if contact.consent is ConsentState.WITHDRAWN:
        return ConsentEval(ConsentStatus.WITHDRAWN, "consent.withdrawn", "consent withdrawn")
    defect = _consent_defect(contact, controller_id, policy)
    if defect is not None:
        return ConsentEval(ConsentStatus.INVALID, *defect)
    return ConsentEval(ConsentStatus.VALID, "consent.valid", "valid consent")


def _consent_defect(contact: Contact, controller_id: str, policy: Policy) -> tuple[str, str] | None:
    if contact.consent_method is ConsentMethod.PRE_TICKED:
        return "consent.pre-ticked", "consent was a pre-ticked box"
    if contact.consent_method is ConsentMethod.TERMS:
        return "consent.terms", "consent was bundled with the terms of use"
    if not (contact.consent_proof or "").strip():
        return "consent.no-proof", "no proof of consent stored"
    if contact.consent_at is None:
        return "consent.no-date", "no date of consent stored: prior consent cannot be shown"
    collector = relationship_controller(contact, policy)
    if collector != controller_id and collector in policy.controllers:
        return "consent.other-controller", "consent was given to another controller"
    indirect = collector != controller_id or contact.source_kind in INDIRECT_SOURCES
    if indirect and contact.partner_named is not True:
        who = (
            f"a {contact.source_kind.value}"
            if collector == controller_id and contact.source_kind is not None
            else f"{collector!r}"
        )
        return (
            "consent.partner-not-named",
            f"consent collected by {who} that did not name this controller",
        )
    return None


def soft_optin_eval(
    contact: Contact | None,
    profile: CountryProfile,
    controller_id: str,
    campaign: CampaignFacts | None,
    policy: Policy,
    today: date,
) -> SoftOptinEval:
    """The soft opt-in conditions of RULES.md §4 with the country's extra; partner offers are
    left to the `third-party-offer` rule so the refusal names them."""
    if not profile.soft_optin:
        return _soft_fail("soft-optin.not-allowed", f"no soft opt-in in {profile.code}")
    if contact is None or not contact.customer_of:
        return _soft_fail("soft-optin.not-customer", "not a customer")
    if relationship_controller(contact, policy) != controller_id:
        return _soft_fail("soft-optin.other-controller", "customer of another controller")
    if contact.source_kind is not SourceKind.DIRECT:
        return _soft_fail(
            "soft-optin.not-direct", "address not obtained from the customer in a sale"
        )
    if contact.objection_offered is not True:
        return _soft_fail(
            "soft-optin.no-objection-offered", "no way to refuse was offered at collection"
        )
    if contact.marketing_refused:
        return _soft_fail("soft-optin.refused", "the customer refused marketing")
    if contact.last_purchase is None:
        return _soft_fail("soft-optin.no-sale-date", "no completed sale recorded")
    if campaign is not None:
        if campaign.product is None:
            return _soft_fail(
                "soft-optin.no-product",
                "the message names no product family (X-Prospect-Product or campaign)",
            )
        bought = {family.strip().lower() for family in contact.customer_of}
        if campaign.product not in bought:
            return _soft_fail(
                "soft-optin.other-product",
                f"product family {campaign.product!r} was not bought",
            )
    window = policy.retention.customer_months
    if profile.soft_optin_window_months is not None:
        window = min(window, profile.soft_optin_window_months)
    if contact.last_purchase < months_before(today, window):
        extra = ""
        if profile.soft_optin_extra is SoftOptinExtra.CURRENT_CUSTOMER:
            extra = f" (only current customers in {profile.code})"
        elif profile.soft_optin_extra is SoftOptinExtra.SALE_WINDOW:
            extra = f" ({profile.code})"
        return SoftOptinEval(
            SoftStatus.INACTIVE,
            "soft-optin.inactive",
            f"last purchase {contact.last_purchase.isoformat()} is older than "
            f"{window} months{extra}",
        )
    if campaign is None:
        return SoftOptinEval(SoftStatus.PENDING, "soft-optin.pending", "product not known yet")
    return SoftOptinEval(SoftStatus.SATISFIED, "soft-optin.satisfied", "soft opt-in applies")


def _soft_fail(code: str, reason: str) -> SoftOptinEval:
    return SoftOptinEval(SoftStatus.FAILED, code, reason)


def retention_eval(
    recipient: RecipientFacts,
    controller_id: str,
    campaign: CampaignFacts | None,
    profile: CountryProfile,
    policy: Policy,
    today: date,
) -> RetentionEval:
    """Prospect data is usable 3 years from the last contact (`proxy.policy.lastcontact`, the
    definition purge uses too); a customer's 3 years from the last purchase. A contact
    without any date is not judged stale."""
    contact = recipient.contact
    retention = policy.retention
    if contact is None:
        return RetentionEval(False, None, False, False, "not in the register")
    is_customer = (
        bool(contact.customer_of)
        and contact.last_purchase is not None
        and relationship_controller(contact, policy) == controller_id
        and contact.last_purchase >= months_before(today, retention.customer_months)
    )
    if is_customer:
        return RetentionEval(True, contact.last_purchase, False, False, "current customer")
    anchor = last_contact(contact)
    if anchor is None:
        return RetentionEval(False, None, False, False, "no collection or interaction date")
    if anchor >= months_before(today, retention.prospect_months):
        return RetentionEval(False, anchor, False, False, "within the retention window")
    reason = (
        f"last contact (collection, interaction, purchase or consent) {anchor.isoformat()} "
        f"is older than {retention.prospect_months} months"
    )
    wants = campaign is not None and campaign.repermission
    allowed = wants and profile.repermission_allowed and recipient.repermission_at is None
    return RetentionEval(False, anchor, True, allowed, reason)


def _needs_opt_in(kind: Kind, profile: CountryProfile) -> bool:
    if kind is Kind.B2C:
        return True
    regime = profile.b2b if kind is Kind.B2B else profile.generic
    return regime is Regime.OPT_IN


def _basis(
    kind: Kind,
    needs_opt_in: bool,
    consent: ConsentEval,
    soft: SoftOptinEval,
    campaign: CampaignFacts | None,
    contact: Contact | None,
) -> Basis:
    if consent.valid:
        return Basis.CONSENT
    if soft.status is SoftStatus.SATISFIED:
        return Basis.SOFT_OPTIN
    if needs_opt_in or campaign is None:
        return Basis.NONE
    if kind is Kind.GENERIC:
        return Basis.GENERIC_OPTOUT
    job = (contact.job_function or "").strip().lower() if contact is not None else ""
    if job and job in campaign.targets:
        return Basis.B2B_RELEVANCE
    return Basis.NONE


def build_context(
    recipient: RecipientFacts,
    message: MessageFacts | None,
    policy: Policy,
    today: date,
    stage: Stage,
    campaign: CampaignFacts | None,
    controller_id: str,
    transactional: bool,
) -> RuleContext:
    """Derive everything once; `campaign` is None at RCPT (the headers come with DATA)."""
    address = normalise_address(recipient.address)
    contact = recipient.contact
    kind = classify_normalised(address, contact, policy)
    country = country_of_normalised(address, contact)
    profile = policy.profile(country)
    consent = consent_eval(contact, controller_id, policy)
    soft = soft_optin_eval(contact, profile, controller_id, campaign, policy, today)
    needs_opt_in = _needs_opt_in(kind, profile)
    source = (contact.source or "").strip() if contact is not None else ""
    if not source and campaign is not None:
        source = campaign.source or ""
    return RuleContext(
        stage=stage,
        today=today,
        policy=policy,
        recipient=recipient,
        message=message,
        address=address,
        contact=contact,
        kind=kind,
        country=country,
        profile=profile,
        controller_id=controller_id,
        controller=policy.controllers[controller_id],
        campaign=campaign,
        transactional=transactional,
        consent=consent,
        soft_optin=soft,
        retention=retention_eval(recipient, controller_id, campaign, profile, policy, today),
        needs_opt_in=needs_opt_in,
        source=source or None,
        source_kind=contact.source_kind if contact is not None else None,
        first_contact=recipient.first_message_at is None,
        basis=_basis(kind, needs_opt_in, consent, soft, campaign, contact),
    )
