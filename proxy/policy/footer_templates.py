"""Footer templates: the model of a `[footer.<lang>]` policy section and the shipped defaults.

Placeholders use str.format syntax; a template naming an unknown placeholder is a policy error.
The footer (every commercial message) says who sends, that it is commercial prospecting,
where the address comes from, and how to unsubscribe for free (CPCE L34-5, LCEN art. 20).
The notice (first message to a contact not collected directly) is the GDPR art. 14
information: controller, purpose, data, legal basis, source, retention, right to object,
privacy policy, right to complain to a supervisory authority.
"""

from __future__ import annotations

import string

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "DEFAULT_FOOTERS",
    "PLACEHOLDERS",
    "URL_PLACEHOLDERS",
    "FooterTemplate",
    "authority_for",
    "retention_for",
]

PLACEHOLDERS = frozenset(
    {
        "legal_name",
        "postal_address",
        "source",
        "unsubscribe_url",
        "unsubscribe_mailto",
        "privacy_url",
        "retention",
        "authority",
    }
)


URL_PLACEHOLDERS = frozenset({"unsubscribe_url", "unsubscribe_mailto", "privacy_url"})


class FooterTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    html: str
    notice_text: str  # GDPR art. 14 first-contact notice
    notice_html: str

    @field_validator("text", "html", "notice_text", "notice_html")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}"
                )
        return value

    @field_validator("text", "notice_text")
    @classmethod
    def _links_end_cleanly(cls, value: str) -> str:
        """In plain text a mail client links what touches a URL: `TOKEN.` opens a page that
        answers 400. A URL is followed by white space or the end, or written `<URL>`."""
        parsed = list(string.Formatter().parse(value))
        for index, (literal, name, _, _) in enumerate(parsed):
            if name not in URL_PLACEHOLDERS:
                continue
            following = parsed[index + 1][0] if index + 1 < len(parsed) else ""
            bracketed = literal.endswith("<") and following.startswith(">")
            if following and not following[0].isspace() and not bracketed:
                raise ValueError(
                    f"{{{name}}} is followed by {following[0]!r}: end a URL with a space or a "
                    f"line break, or write <{{{name}}}>"
                )
        return value


_BOX = (
    '<div lang="{lang}" style="margin-top:24px;padding-top:8px;border-top:1px solid #dddddd;'
    'font-family:Arial,Helvetica,sans-serif;font-size:12px;line-height:1.4;color:#555555">'
)
_NOTICE_BOX = (
    '<div lang="{lang}" style="margin-top:8px;font-family:Arial,Helvetica,sans-serif;'
    'font-size:11px;line-height:1.4;color:#666666">'
)


def _box(lang: str, notice: bool = False) -> str:
    return (_NOTICE_BOX if notice else _BOX).replace("{lang}", lang)


DEFAULT_FOOTERS: dict[str, FooterTemplate] = {
    "fr": FooterTemplate(
        text=(
            "Ce message est une prospection commerciale de {legal_name}, {postal_address}.\n"
            "Origine de votre adresse : {source}.\n"
            "Pour ne plus recevoir nos messages (gratuit, en un clic) : {unsubscribe_url}"
        ),
        html=(
            _box("fr") + "Ce message est une prospection commerciale de {legal_name}, "
            "{postal_address}.<br>\nOrigine de votre adresse : {source}.<br>\n"
            '<a href="{unsubscribe_url}" style="color:#555555">Ne plus recevoir nos messages'
            "</a> (gratuit, en un clic)</div>"
        ),
        notice_text=(
            "Protection de vos données (RGPD, art. 14) : {legal_name}, {postal_address}, "
            "responsable du traitement, utilise votre adresse électronique et vos coordonnées "
            "professionnelles pour vous adresser des offres commerciales sur ses produits et "
            "services. Base légale : votre consentement si vous l'avez donné à notre partenaire, "
            "à défaut notre intérêt légitime à prospecter (RGPD, art. 6.1 a et f). "
            "Source de vos données : {source}. Durée de conservation : {retention} après notre "
            "dernier échange. Vous pouvez vous opposer à tout moment et gratuitement à ce "
            "traitement : {unsubscribe_url}\nAccès, rectification, effacement et autres droits : "
            "{privacy_url}\nVous pouvez introduire une réclamation auprès de {authority}."
        ),
        notice_html=(
            _box("fr", notice=True)
            + "<strong>Protection de vos données (RGPD, art. 14)</strong> : {legal_name}, "
            "{postal_address}, responsable du traitement, utilise votre adresse électronique et "
            "vos coordonnées professionnelles pour vous adresser des offres commerciales sur ses "
            "produits et services. Base légale : votre consentement si vous l'avez donné à notre "
            "partenaire, à défaut notre intérêt légitime à prospecter (RGPD, art. 6.1 a et f). "
            "Source de vos données : {source}. Durée de conservation : {retention} après notre "
            "dernier échange. Vous pouvez "
            '<a href="{unsubscribe_url}" style="color:#666666">vous opposer à tout moment et '
            "gratuitement</a> à ce traitement. Accès, rectification, effacement et autres "
            'droits : <a href="{privacy_url}" style="color:#666666">politique de '
            "confidentialité</a>. Vous pouvez introduire une réclamation auprès de "
            "{authority}.</div>"
        ),
    ),
    "en": FooterTemplate(
        text=(
            "This is a commercial prospecting message from {legal_name}, {postal_address}.\n"
            "Where we obtained your address: {source}.\n"
            "Unsubscribe (free, one click): {unsubscribe_url}"
        ),
        html=(
            _box("en") + "This is a commercial prospecting message from {legal_name}, "
            "{postal_address}.<br>\nWhere we obtained your address: {source}.<br>\n"
            '<a href="{unsubscribe_url}" style="color:#555555">Unsubscribe</a> '
            "(free, one click)</div>"
        ),
        notice_text=(
            "Your data (GDPR art. 14): {legal_name}, {postal_address}, the controller, uses "
            "your email address and business contact details to send you commercial offers "
            "about its products and services. Legal basis: your consent where you gave it to "
            "our partner, otherwise our legitimate interest in prospecting (GDPR art. 6(1)(a) "
            "and (f)). Source of your data: {source}. Retention: {retention} after our last "
            "contact. You may object to this processing at any time, free of charge: "
            "{unsubscribe_url}\nAccess, rectification, erasure and your other rights: "
            "{privacy_url}\nYou have the right to lodge a complaint with {authority}."
        ),
        notice_html=(
            _box("en", notice=True) + "<strong>Your data (GDPR art. 14)</strong>: {legal_name}, "
            "{postal_address}, the controller, uses your email address and business contact "
            "details to send you commercial offers about its products and services. Legal "
            "basis: your consent where you gave it to our partner, otherwise our legitimate "
            "interest in prospecting (GDPR art. 6(1)(a) and (f)). Source of your data: "
            "{source}. Retention: {retention} after our last contact. You may "
            '<a href="{unsubscribe_url}" style="color:#666666">object to this processing at '
            "any time, free of charge</a>. Access, rectification, erasure and your other "
            'rights: <a href="{privacy_url}" style="color:#666666">privacy policy</a>. You have '
            "the right to lodge a complaint with {authority}.</div>"
        ),
    ),
    "de": FooterTemplate(
        text=(
            "Dies ist eine Werbe-E-Mail (Direktwerbung) von {legal_name}, {postal_address}.\n"
            "Herkunft Ihrer Adresse: {source}.\n"
            "Abmelden (kostenlos, mit einem Klick): {unsubscribe_url}"
        ),
        html=(
            _box("de") + "Dies ist eine Werbe-E-Mail (Direktwerbung) von {legal_name}, "
            "{postal_address}.<br>\nHerkunft Ihrer Adresse: {source}.<br>\n"
            '<a href="{unsubscribe_url}" style="color:#555555">Abmelden</a> '
            "(kostenlos, mit einem Klick)</div>"
        ),
        notice_text=(
            "Datenschutzhinweis (Art. 14 DSGVO): {legal_name}, {postal_address}, als "
            "Verantwortlicher verarbeitet Ihre E-Mail-Adresse und geschäftlichen Kontaktdaten, "
            "um Ihnen Angebote zu seinen Produkten und Dienstleistungen zu senden. "
            "Rechtsgrundlage: Ihre Einwilligung, sofern Sie sie unserem Partner erteilt haben, "
            "sonst unser berechtigtes Interesse an Direktwerbung (Art. 6 Abs. 1 lit. a und f "
            "DSGVO). Herkunft Ihrer Daten: {source}. Speicherdauer: {retention} nach unserem "
            "letzten Kontakt. Sie können dieser Verarbeitung jederzeit kostenlos widersprechen: "
            "{unsubscribe_url}\nAuskunft, Berichtigung, Löschung und Ihre weiteren Rechte: "
            "{privacy_url}\nSie haben das Recht, sich bei {authority} zu beschweren."
        ),
        notice_html=(
            _box("de", notice=True) + "<strong>Datenschutzhinweis (Art. 14 DSGVO)</strong>: "
            "{legal_name}, {postal_address}, als Verantwortlicher verarbeitet Ihre "
            "E-Mail-Adresse und geschäftlichen Kontaktdaten, um Ihnen Angebote zu seinen "
            "Produkten und Dienstleistungen zu senden. Rechtsgrundlage: Ihre Einwilligung, "
            "sofern Sie sie unserem Partner erteilt haben, sonst unser berechtigtes Interesse "
            "an Direktwerbung (Art. 6 Abs. 1 lit. a und f DSGVO). Herkunft Ihrer Daten: "
            "{source}. Speicherdauer: {retention} nach unserem letzten Kontakt. Sie können "
            '<a href="{unsubscribe_url}" style="color:#666666">dieser Verarbeitung jederzeit '
            "kostenlos widersprechen</a>. Auskunft, Berichtigung, Löschung und Ihre weiteren "
            'Rechte: <a href="{privacy_url}" style="color:#666666">Datenschutzerklärung</a>. '
            "Sie haben das Recht, sich bei {authority} zu beschweren.</div>"
        ),
    ),
}

# The phrase fits each template's grammar: "auprès de …", "with …", "bei … zu beschweren".
_CNIL = {
    "fr": "la CNIL (www.cnil.fr)",
    "en": "the CNIL, the French data-protection authority (www.cnil.fr)",
    "de": "der CNIL, der französischen Datenschutzbehörde (www.cnil.fr)",
}
_ANY_AUTHORITY = {
    "fr": "l'autorité de protection des données de votre pays de résidence",
    "en": "the data-protection supervisory authority of your country of residence",
    "de": "der Datenschutz-Aufsichtsbehörde Ihres Wohnsitzlandes",
}
_YEARS = {"fr": ("an", "ans"), "en": ("year", "years"), "de": ("Jahr", "Jahre")}
_MONTHS = {"fr": ("mois", "mois"), "en": ("month", "months"), "de": ("Monat", "Monate")}
_DAYS = {"fr": ("jour", "jours"), "en": ("day", "days"), "de": ("Tag", "Tage")}


def authority_for(language: str, country: str | None) -> str:
    """The `{authority}` text: the CNIL for recipients in France, else their own authority."""
    lang = language if language in _CNIL else "en"
    return _CNIL[lang] if (country or "").upper() == "FR" else _ANY_AUTHORITY[lang]


def retention_for(language: str, days: int) -> str:
    """The `{retention}` text for a window in days: "3 ans", "18 months", "90 Tage"."""
    lang = language if language in _YEARS else "en"
    if days % 365 == 0:
        count, words = days // 365, _YEARS[lang]
    elif days % 30 == 0:
        count, words = days // 30, _MONTHS[lang]
    else:
        count, words = days, _DAYS[lang]
    return f"{count} {words[0] if count == 1 else words[1]}"
