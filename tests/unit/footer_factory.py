"""The French footer of a fictitious sender, and the rewrite plan that carries it: what the
rewriting tests and bench/rewrite_bench.py put into messages."""

from __future__ import annotations

from proxy.mime.footer_render import FooterValues, render_footer
from proxy.mime.rewrite import RewriteInstructions
from proxy.policy.footer_templates import DEFAULT_FOOTERS

__all__ = ["footer_values", "rewrite_plan"]

UNSUBSCRIBE_URL = "https://relay.example/u/TOKEN123"


def footer_values(
    unsubscribe_url: str = UNSUBSCRIBE_URL,
    source: str = "Salon Industrie Lyon <2025> & partenaires",
) -> FooterValues:
    """Acme Industrie SAS, Lyon; the source has markup characters a renderer must escape."""
    return FooterValues(
        legal_name="Acme Industrie SAS",
        postal_address="12 quai Perrache, 69002 Lyon",
        source=source,
        unsubscribe_url=unsubscribe_url,
        privacy_url="https://acme.example/confidentialite",
        retention="3 ans",
        authority="la CNIL (www.cnil.fr)",
    )


def rewrite_plan(
    values: FooterValues, *, mailto: str | None = None, queue_id: str | None = None
) -> RewriteInstructions:
    """The default French footer (with the notice) for `values`, List-Unsubscribe to its
    unsubscribe URL (and `mailto`), the trace header `queue_id`, a marker key."""
    return RewriteInstructions(
        footer_text=render_footer(DEFAULT_FOOTERS["fr"], values, html=False, notice=True),
        footer_html=render_footer(DEFAULT_FOOTERS["fr"], values, html=True, notice=True),
        list_unsubscribe_url=values.unsubscribe_url,
        list_unsubscribe_mailto=mailto,
        queue_id=queue_id,
        marker_key=b"relay-secret",
    )
