"""Micro-benchmark of the pure engine: µs per decide() at RCPT and DATA (prints figures)."""

from __future__ import annotations

import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxy.model import (
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
from proxy.policy.engine import decide
from proxy.policy.policy_file import load_policy

TODAY = date(2026, 12, 1)
N = 20_000


def main() -> None:
    policy = load_policy(Path(__file__).resolve().parents[1] / "config" / "policy.toml")
    consented = RecipientFacts(
        address="marie@gmail.com",
        contact=Contact(
            email="marie@gmail.com",
            country="FR",
            source="newsletter form",
            source_kind=SourceKind.DIRECT,
            collected_at=date(2025, 3, 10),
            consent=ConsentState.GRANTED,
            consent_method=ConsentMethod.CHECKBOX,
            consent_proof="log-1",
        ),
    )
    b2b = RecipientFacts(
        address="paul.martin@acme-industrie.fr",
        contact=Contact(
            email="paul.martin@acme-industrie.fr",
            kind=Kind.B2B,
            country="FR",
            source="trade fair 2025",
            source_kind=SourceKind.EVENT,
            collected_at=date(2025, 10, 1),
            job_function="finance",
        ),
        first_message_at=datetime(2026, 1, 1),
    )
    suppressed = RecipientFacts(
        address="x@example.org",
        suppressions=(Suppression("global", SuppressionOrigin.ONE_CLICK, datetime(2026, 1, 1)),),
    )
    message = MessageFacts(
        mail_from="news@example.com",
        client_ip="192.0.2.1",
        from_address="news@example.com",
        subject="Nouveautés de printemps",
        targets=("finance",),
    )
    for label, recipient in (("consent b2c", consented), ("b2b relevance", b2b),
                             ("suppressed", suppressed)):  # fmt: skip
        for stage in (Stage.RCPT, Stage.DATA):
            decide(recipient, message, policy, TODAY, stage)  # warm up
            start = time.perf_counter()
            for _ in range(N):
                decision = decide(recipient, message, policy, TODAY, stage)
            elapsed = time.perf_counter() - start
            print(
                f"{label:<14} {stage.value:<4} {decision.action.value:<8} "
                f"{elapsed / N * 1e6:7.1f} µs/decide"
            )


if __name__ == "__main__":
    main()
