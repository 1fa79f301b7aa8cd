"""Property tests: rewriting generated MIME trees keeps every untouched part byte-identical."""

from __future__ import annotations

import email
import email.policy

from hypothesis import HealthCheck, given, settings

from proxy.mime.rewrite import RewriteInstructions, rewrite
from tests.unit.mime_strategies import Built, messages

FOOTER_TEXT = "FOOTMARK prospection commerciale \u2013 désinscription: https://r.example/u/T"
FOOTER_HTML = '<div>FOOTMARK café &amp; Ünsubscribe <a href="https://r.example/u/T">x</a></div>'
PLAN = RewriteInstructions(
    footer_text=FOOTER_TEXT,
    footer_html=FOOTER_HTML,
    list_unsubscribe_url="https://r.example/u/" + "T" * 120,
    list_unsubscribe_mailto="mailto:unsubscribe@r.example?subject=unsubscribe%20" + "T" * 120,
    queue_id="Q1",
    marker_key=b"secret",
)


def _decoded_text_parts(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts: list[str] = []
    for part in message.walk():
        assert not part.defects, part.defects
        if part.get_content_type() in ("text/plain", "text/html"):
            texts.append(part.get_content())
    return texts


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_rewrite_properties(built: Built) -> None:
    """The footer's visibility is the oracle's business (test_footer_oracle.py); here: every
    text stays, untouched parts stay byte-identical, the footer is added once per reader
    view at most, and a second pass changes nothing."""
    out = rewrite(built.raw, PLAN)

    texts = _decoded_text_parts(out)
    for ident in built.visible:
        assert [text for text in texts if ident in text], ident
    for frozen in built.frozen:
        assert frozen in out
    footers = sum(text.count("FOOTMARK") for text in texts)
    assert 1 <= footers <= max(2, len(built.visible))
    assert rewrite(out, PLAN) == out
