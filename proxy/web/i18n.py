"""Texts of the unsubscribe pages, one plain dict per language (placeholders: str.format)."""

from __future__ import annotations

__all__ = ["DEFAULT_LANGUAGE", "STRINGS", "pick_language"]

DEFAULT_LANGUAGE = "en"

# Every language defines every key; tests check that the key sets are identical.
# {sender} is the controller's legal name, {campaign} the campaign named by the token.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "confirm_title": "Unsubscribe",
        "confirm_intro": "You are about to object to commercial messages.",
        "sender_label": "Sender",
        "concerns_label": "This concerns",
        "scope_controller": "all commercial messages from {sender}",
        "scope_global": (
            "all commercial messages sent through this service, including those from {sender}"
        ),
        "campaign_label": "Message received as part of",
        "button": "Unsubscribe",
        "free_note": "Free of charge. It takes effect immediately.",
        "privacy_link": "Privacy policy of {sender}",
        "done_title": "You are unsubscribed",
        "already_title": "You are already unsubscribed",
        "done_body": "{sender} will not send you commercial messages any more.",
        "done_note": "This took effect immediately. You can close this page.",
        "unavailable_title": "Please try again later",
        "unavailable_body": "Your request could not be recorded right now. Nothing was changed.",
        "unknown_sender": "the sender",
    },
    "fr": {
        "confirm_title": "Se désabonner",
        "confirm_intro": "Vous allez vous opposer à la réception de messages commerciaux.",
        "sender_label": "Expéditeur",
        "concerns_label": "Cela concerne",
        "scope_controller": "tous les messages commerciaux de {sender}",
        "scope_global": (
            "tous les messages commerciaux envoyés par ce service, y compris ceux de {sender}"
        ),
        "campaign_label": "Message reçu dans le cadre de",
        "button": "Me désabonner",
        "free_note": "Gratuit. Prend effet immédiatement.",
        "privacy_link": "Politique de confidentialité de {sender}",
        "done_title": "Vous êtes désabonné·e",
        "already_title": "Vous êtes déjà désabonné·e",
        "done_body": "{sender} ne vous enverra plus de messages commerciaux.",
        "done_note": "Votre demande a pris effet immédiatement. Vous pouvez fermer cette page.",
        "unavailable_title": "Veuillez réessayer plus tard",
        "unavailable_body": (
            "Votre demande n'a pas pu être enregistrée pour le moment. Rien n'a été modifié."
        ),
        "unknown_sender": "l'expéditeur",
    },
    "de": {
        "confirm_title": "Abmelden",
        "confirm_intro": "Hier können Sie dem Erhalt von Werbenachrichten widersprechen.",
        "sender_label": "Absender",
        "concerns_label": "Betrifft",
        "scope_controller": "alle Werbenachrichten von {sender}",
        "scope_global": (
            "alle über diesen Dienst versandten Werbenachrichten, auch die von {sender}"
        ),
        "campaign_label": "Nachricht erhalten im Rahmen von",
        "button": "Abmelden",
        "free_note": "Kostenlos. Die Abmeldung gilt sofort.",
        "privacy_link": "Datenschutzerklärung von {sender}",
        "done_title": "Sie sind abgemeldet",
        "already_title": "Sie sind bereits abgemeldet",
        "done_body": "{sender} wird Ihnen keine Werbenachrichten mehr senden.",
        "done_note": "Die Abmeldung gilt ab sofort. Sie können diese Seite schließen.",
        "unavailable_title": "Bitte versuchen Sie es später erneut",
        "unavailable_body": (
            "Ihre Anfrage konnte gerade nicht gespeichert werden. Es wurde nichts geändert."
        ),
        "unknown_sender": "der Absender",
    },
    "es": {
        "confirm_title": "Darse de baja",
        "confirm_intro": "Va a oponerse a recibir mensajes comerciales.",
        "sender_label": "Remitente",
        "concerns_label": "Afecta a",
        "scope_controller": "todos los mensajes comerciales de {sender}",
        "scope_global": (
            "todos los mensajes comerciales enviados por este servicio, incluidos los de {sender}"
        ),
        "campaign_label": "Mensaje recibido en el marco de",
        "button": "Darme de baja",
        "free_note": "Gratuito. Surte efecto de inmediato.",
        "privacy_link": "Política de privacidad de {sender}",
        "done_title": "Se ha dado de baja",
        "already_title": "Ya se ha dado de baja",
        "done_body": "{sender} no le enviará más mensajes comerciales.",
        "done_note": "La baja es efectiva de inmediato. Puede cerrar esta página.",
        "unavailable_title": "Vuelva a intentarlo más tarde",
        "unavailable_body": (
            "No se ha podido registrar su solicitud en este momento. No se ha cambiado nada."
        ),
        "unknown_sender": "el remitente",
    },
    "it": {
        "confirm_title": "Annulla l'iscrizione",
        "confirm_intro": "Stai per opporti alla ricezione di messaggi commerciali.",
        "sender_label": "Mittente",
        "concerns_label": "Riguarda",
        "scope_controller": "tutti i messaggi commerciali di {sender}",
        "scope_global": (
            "tutti i messaggi commerciali inviati tramite questo servizio, compresi quelli di "
            "{sender}"
        ),
        "campaign_label": "Messaggio ricevuto nell'ambito di",
        "button": "Annulla l'iscrizione",
        "free_note": "Gratuito. Ha effetto immediato.",
        "privacy_link": "Informativa sulla privacy di {sender}",
        "done_title": "Iscrizione annullata",
        "already_title": "Iscrizione già annullata",
        "done_body": "{sender} non ti invierà più messaggi commerciali.",
        "done_note": "La richiesta ha effetto immediato. Puoi chiudere questa pagina.",
        "unavailable_title": "Riprova più tardi",
        "unavailable_body": (
            "Non è stato possibile registrare la richiesta in questo momento. "
            "Non è stato modificato nulla."
        ),
        "unknown_sender": "il mittente",
    },
    "nl": {
        "confirm_title": "Afmelden",
        "confirm_intro": "Hier kunt u bezwaar maken tegen het ontvangen van commerciële berichten.",
        "sender_label": "Afzender",
        "concerns_label": "Dit betreft",
        "scope_controller": "alle commerciële berichten van {sender}",
        "scope_global": (
            "alle commerciële berichten die via deze dienst worden verstuurd, ook die van {sender}"
        ),
        "campaign_label": "Bericht ontvangen in het kader van",
        "button": "Afmelden",
        "free_note": "Gratis. Gaat direct in.",
        "privacy_link": "Privacybeleid van {sender}",
        "done_title": "U bent afgemeld",
        "already_title": "U bent al afgemeld",
        "done_body": "{sender} stuurt u geen commerciële berichten meer.",
        "done_note": "De afmelding is direct ingegaan. U kunt deze pagina sluiten.",
        "unavailable_title": "Probeer het later opnieuw",
        "unavailable_body": ("Uw verzoek kon nu niet worden opgeslagen. Er is niets gewijzigd."),
        "unknown_sender": "de afzender",
    },
}


def pick_language(tag: str | None) -> str:
    """Map a language tag ("fr", "fr-CA", "DE") to a supported language, else English.

    Tokens carry the footer's language; a tag we have no texts for must still give a page.
    """
    if tag:
        primary = tag.strip().split("-")[0].split("_")[0].lower()
        if primary in STRINGS:
            return primary
    return DEFAULT_LANGUAGE
