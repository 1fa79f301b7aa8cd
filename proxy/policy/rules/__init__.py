"""The rules, in the precedence order of RULES.md §4 (explicit: no package scanning).

`store-unavailable` is not here: it is the service's verdict when facts cannot be read, built
by `proxy.policy.engine.store_unavailable`.
"""

from __future__ import annotations

from proxy.policy.rules.base import Rule
from proxy.policy.rules.consent import B2bNoConsent, B2cNoConsent, ConsentInvalid
from proxy.policy.rules.message import CannotAddFooter, VisibleRecipientsRule
from proxy.policy.rules.objection import Objected, OperationalAddress
from proxy.policy.rules.relevance import B2bNotRelevant
from proxy.policy.rules.retention import StaleProspect
from proxy.policy.rules.rewrite import FirstContactNotice, FooterRule, ListUnsubscribe
from proxy.policy.rules.sector import SectorBan
from proxy.policy.rules.sender import DeceptiveSubject, SenderNotAllowed
from proxy.policy.rules.softoptin import CustomerInactive, SoftOptin, ThirdPartyOffer
from proxy.policy.rules.source import ScrapedSource, SourceUnknown
from proxy.policy.rules.suppression import Suppressed
from proxy.policy.rules.transactional import NotCommercial

__all__ = ["RULES", "RULES_BY_NAME", "Rule"]

RULES: tuple[Rule, ...] = (
    NotCommercial(),
    Suppressed(),
    Objected(),
    OperationalAddress(),
    ConsentInvalid(),
    B2cNoConsent(),
    SoftOptin(),
    CustomerInactive(),
    B2bNoConsent(),
    B2bNotRelevant(),
    StaleProspect(),
    SectorBan(),
    SourceUnknown(),
    ScrapedSource(),
    SenderNotAllowed(),
    DeceptiveSubject(),
    ThirdPartyOffer(),
    VisibleRecipientsRule(),
    CannotAddFooter(),
    FooterRule(),
    FirstContactNotice(),
    ListUnsubscribe(),
)

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
