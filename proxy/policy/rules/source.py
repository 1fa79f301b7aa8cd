"""Rules `source-unknown` and `scraped-source`: the footer must say where the address came from."""

from __future__ import annotations

from typing import ClassVar

from proxy.model import Action, Finding, SourceKind, Stage
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
    """KASPR (CNIL 2024): addresses scraped from the web are not fair collection."""

    __slots__ = ()
    name: ClassVar[str] = "scraped-source"
    description: ClassVar[str] = "`source_kind = scraped`"
    outcome: ClassVar[str] = "reject (KASPR)"
    stage: ClassVar[Stage] = Stage.RCPT

    def check(self, ctx: RuleContext) -> Finding | None:
        if ctx.source_kind is not SourceKind.SCRAPED:
            return None
        return self.hit(Action.REJECT, "the address was collected by scraping", "source.scraped")
