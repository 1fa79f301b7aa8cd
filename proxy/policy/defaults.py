"""Shipped default lists of the policy file: ISP domains, role/operational mailboxes, patterns."""

from __future__ import annotations

__all__ = [
    "BANNED_SECTORS_FR",
    "DECEPTIVE_SUBJECTS",
    "EU_ISP_DOMAINS",
    "FIRST_CONTACT_DECEPTIVE_SUBJECTS",
    "LANGUAGES",
    "OPERATIONAL_LOCAL_PARTS",
    "ROLE_LOCAL_PARTS",
]

# European ISP and mailbox-provider domains, often missing from US-centric free-mail lists.
# An address there is a private address (RULES.md §3), even a self-employed person's.
EU_ISP_DOMAINS: tuple[str, ...] = (
    # FR
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "cegetel.net", "club-internet.fr",
    "laposte.net", "bbox.fr", "numericable.fr", "noos.fr", "aliceadsl.fr", "voila.fr",
    "hotmail.fr", "live.fr", "msn.fr", "yahoo.fr", "gmx.fr", "aol.fr", "9online.fr",
    "libertysurf.fr", "tele2.fr", "nordnet.fr", "dbmail.com",
    # DE
    "gmx.de", "gmx.net", "web.de", "t-online.de", "freenet.de", "arcor.de", "1und1.de",
    "online.de", "vodafone.de", "kabelmail.de", "posteo.de", "mailbox.org", "email.de",
    "googlemail.com", "outlook.de", "hotmail.de", "yahoo.de", "ewetel.net", "versatel.de",
    # IT
    "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tim.it", "fastwebnet.it", "tin.it",
    "inwind.it", "iol.it", "email.it", "hotmail.it", "yahoo.it", "teletu.it",
    # ES
    "telefonica.net", "movistar.es", "terra.es", "ono.com", "orange.es", "jazztel.es", "ya.com",
    "hotmail.es", "yahoo.es",
    # BE
    "skynet.be", "telenet.be", "proximus.be", "scarlet.be", "voo.be", "belgacom.net",
    # NL
    "ziggo.nl", "kpnmail.nl", "planet.nl", "hetnet.nl", "home.nl", "xs4all.nl", "chello.nl",
    "upcmail.nl", "casema.nl", "quicknet.nl", "hotmail.nl", "live.nl",
    # AT, CH, LU
    "aon.at", "chello.at", "gmx.at", "a1.net", "utanet.at", "bluewin.ch", "gmx.ch",
    "sunrise.ch", "hispeed.ch", "pt.lu",
    # PT, PL, CZ
    "sapo.pt", "netcabo.pt", "clix.pt", "wp.pl", "onet.pl", "interia.pl", "o2.pl", "op.pl",
    "gazeta.pl", "seznam.cz", "centrum.cz", "email.cz",
    # UK, IE, Nordics
    "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com",
    "eircom.net", "telia.com", "spray.se", "jubii.dk", "mail.dk", "suomi24.fi",
    # international providers
    "proton.me", "protonmail.com", "pm.me", "icloud.com", "me.com", "mac.com", "outlook.com",
    "hotmail.com", "live.com", "yahoo.com", "aol.com", "gmail.com", "zoho.com", "tutanota.com",
)  # fmt: skip

# Role mailboxes of an organisation: `generic` kind (RULES.md §3, rule 3).
ROLE_LOCAL_PARTS: tuple[str, ...] = (
    "contact", "contacts", "info", "infos", "information", "informations", "sales", "sale",
    "commande", "commandes", "kontakt", "vertrieb", "hello", "hallo", "bonjour", "office",
    "buero", "bureau", "accueil", "reception", "support", "service", "services",
    "serviceclient", "service-client", "customerservice", "customer-service", "direction",
    "compta", "comptabilite", "accounting", "accounts", "billing", "facturation", "invoices",
    "rh", "hr", "jobs", "careers", "recrutement", "recruitment", "emploi", "marketing",
    "presse", "press", "media", "team", "equipe", "enquiries", "enquiry", "ventes", "vente",
    "verkauf", "vendite", "ventas", "vendas", "informacion", "informazioni", "secretariat",
    "sekretariat", "administration", "verwaltung", "einkauf", "achats", "purchasing",
    "procurement", "orders", "order", "bestellung", "shop", "boutique", "partners",
    "partenariat", "communication", "events", "mail", "admin",
)  # fmt: skip

# Mailboxes that run mail systems: never marketed to (RULES.md §3).
OPERATIONAL_LOCAL_PARTS: tuple[str, ...] = (
    "abuse", "postmaster", "hostmaster", "webmaster", "noreply", "no-reply", "no_reply",
    "donotreply", "do-not-reply", "do_not_reply", "ne-pas-repondre", "nepasrepondre",
    "mailer-daemon", "mailerdaemon", "bounce", "bounces", "unsubscribe", "root", "security",
    "devnull", "daemon", "listserv", "majordomo", "dmarc", "dmarc-reports", "spam",
)  # fmt: skip

# Subjects that deceive whatever the relationship (case-insensitive regular expressions).
DECEPTIVE_SUBJECTS: tuple[str, ...] = (
    r"\b(unpaid|overdue|outstanding)\s+invoice",
    r"\bfacture\s+(impay[ée]e|en\s+retard|en\s+attente\s+de\s+paiement)",
    r"\b(unbezahlte|offene|überfällige)\s+rechnung",
    r"\bmahnung\b",
    r"\bfattura\s+(non\s+pagata|scaduta|insoluta)",
    r"\bfactura\s+(impagada|pendiente|vencida)",
    r"\bpayment\s+(failed|declined|overdue)",
    r"\bpaiement\s+(refus[ée]|[ée]chou[ée]|en\s+retard)",
    r"\baccount\s+(has\s+been\s+)?(suspended|locked|blocked)",
    r"\bcompte\s+(suspendu|bloqu[ée])",
    r"\byou\s+(have\s+|'ve\s+)?won\b",
    r"\bvous\s+avez\s+gagn[ée]",
)

# A fake reply/forward prefix: deceptive on a first contact, where nothing was exchanged.
FIRST_CONTACT_DECEPTIVE_SUBJECTS: tuple[str, ...] = (
    r"^\s*(re|tr|fwd?|aw|wg|rv|rif|sv|vs|antw|odp|r)\s*(\[\d+\])?\s*:",
)

# Consumer protection law bans prospecting consumers for these categories in France since
# 2025-07-01 (energy-renovation and home-adaptation works). Matched on X-Prospect-Category.
BANNED_SECTORS_FR: tuple[str, ...] = (
    "energy-renovation", "energy-efficiency-works", "home-insulation", "heat-pump",
    "home-adaptation", "renovation-energetique", "isolation-thermique", "pompe-a-chaleur",
    "adaptation-logement", "adaptation-du-logement",
)  # fmt: skip

# Footer language per country; a language without a footer template falls back to "en".
LANGUAGES: dict[str, str] = {
    "FR": "fr", "BE": "fr", "LU": "fr", "CH": "fr", "DE": "de", "AT": "de", "IT": "it",
    "ES": "es", "PT": "pt", "NL": "nl", "PL": "pl", "CZ": "cs", "DK": "da", "SE": "sv",
    "FI": "fi",
}  # fmt: skip
