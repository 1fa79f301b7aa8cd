"""The rules, in the precedence order of RULES.md §4 (explicit: no package scanning).

A new rule is one module here with one `Rule` subclass plus one line in `RULES` (see
`base.Rule`; tests/unit/test_rule_list.py keeps the modules and the list in agreement).
`store-unavailable` is not a rule: it is the service's verdict when facts cannot be read
(`proxy.service`).
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

__all__ = ["RULES", "Rule"]

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
