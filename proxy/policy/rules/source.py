"""Rules `source-unknown` and `scraped-source`: the footer must say where the address came from."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, Kind, SourceKind, Stage
from proxy.policy.context import RuleContext
from proxy.policy.rules.base import Rule

__all__ = ["ScrapedSource", "SourceUnknown"]


class SourceUnknown(Rule):
    __slots__ = ()
    name: ClassVar[str] = "source-unknown"
    description: ClassVar[str] = (
        "no data source text from the register, the campaign or `X-Prospect-Source`, or "
        "`source_kind = unknown`"
    )
    outcome: ClassVar[str] = "reject (the footer could not say where the address came from)"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.source_kind is SourceKind.UNKNOWN:
            return self.hit(
                Action.REJECT, "the address's origin is recorded as unknown", "source.unknown-kind"
            )
        if ctx.at_data and ctx.source is None:
            return self.hit(
                Action.REJECT,
                "no data source to tell the recipient (register, X-Prospect-Source or campaign)",
                "source.missing",
            )
        return None


class ScrapedSource(Rule):
    """KASPR (CNIL 2024): harvesting contact data people had not made public for prospecting is
    not fair collection. The seed reads French B2B law as allowing bought and scraped business
    data; a controller that takes that risk lists the countries in `scraped_b2b_countries`.
    The switch covers business and generic addresses only: a consumer is always refused."""

    __slots__ = ()
    name: ClassVar[str] = "scraped-source"
    description: ClassVar[str] = (
        "`source_kind = scraped`, unless the address is a business or generic one in a country "
        "the controller lists in `scraped_b2b_countries`"
    )
    outcome: ClassVar[str] = (
        "reject (KASPR); when relaxed, forwarded and the relaxation named in the decision; "
        "consumers always rejected"
    )
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.source_kind is not SourceKind.SCRAPED:
            return None
        relaxed = ctx.country in ctx.controller.scraped_b2b_countries
        if relaxed and ctx.kind is not Kind.B2C:
            return self.hit(
                Action.FORWARD,
                f"scraped {ctx.kind.value} address allowed by the policy of "
                f"{ctx.controller.legal_name} in {ctx.country} (legal risk: CNIL KASPR 2024)",
                "source.scraped-allowed",
            )
        reason = "the address was collected by scraping"
        if relaxed:
            reason += " (the policy's b2b relaxation never covers consumers)"
        return self.hit(Action.REJECT, reason, "source.scraped")
