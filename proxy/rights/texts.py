"""Texts of the recipient's side (why page, copy, erasure, the copy's email), per language.

The same languages as the unsubscribe page (proxy.web.i18n.STRINGS); every language defines
every key (a unit test checks it). Placeholders use str.format: {sender} is the controller's
legal name, {date} an ISO 8601 date, {days} a number of days.
"""

from __future__ import annotations

__all__ = ["FIELD_LABELS", "TEXTS"]

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "method_checkbox": "a checkbox you ticked",
        "method_double-opt-in": "a confirmation email (double opt-in)",
        "method_form": "a form",
        "method_pre-ticked": "a pre-ticked box",
        "method_terms": "the terms and conditions",
        "why_link": "Why am I receiving this message? Your data and your rights",
        "why_title": "Why am I receiving this message?",
        "why_intro": "Who sent the message that brought you here, where your address comes "
        "from, and on what legal basis.",
        "controller_heading": "Who is responsible",
        "controller_label": "Data controller",
        "postal_label": "Postal address",
        "privacy_label": "Privacy policy",
        "authority_label": "Complaints",
        "source_heading": "Where your address comes from",
        "source_label": "Data source",
        "collected_label": "Collected on",
        "not_recorded": "not recorded",
        "basis_heading": "Legal basis of this message",
        "basis_recorded": "As recorded when the message was sent, on {date}:",
        "basis_recomputed": "No record of this message is kept any more (records of sent "
        "messages are kept {days} days). Recomputed from the register as it stands today:",
        "basis_unknown": "No record of this message is kept any more, and the register holds "
        "nothing that could be a legal basis.",
        "basis_consent": "your consent",
        "basis_soft-optin": "you are a customer: a message about products similar to those "
        "you bought (soft opt-in)",
        "basis_b2b-relevance": "legitimate interest: a business offer related to your job",
        "basis_generic-optout": "a generic business address (not a named person's)",
        "basis_repermission": "one single message asking whether you wish to hear from us again",
        "basis_transactional": "not a commercial message (transactional)",
        "basis_none": "no legal basis was recorded",
        "consent_at_label": "Consent given on",
        "consent_method_label": "How it was given",
        "product_label": "Product family of the offer",
        "customer_of_label": "Products you bought",
        "job_label": "Your job function as recorded",
        "targets_label": "Job functions the offer concerns",
        "retention_heading": "When your data will be deleted",
        "retention_date": "On {date} at the latest, unless you are in contact with {sender} "
        "again before then.",
        "retention_none": "No collection date is recorded, so no deletion date can be "
        "computed. You can have your data erased now, below.",
        "nothing_held": "The register holds no data about your address.",
        "rights_heading": "Your rights",
        "copy_intro": "Receive a copy of all the data held about your address. It is sent to "
        "the address this message was sent to.",
        "copy_button": "Send me a copy of my data",
        "erase_intro": "Have your data erased. Your address is then kept only as a one-way "
        "code on the suppression list, so that you are never mailed again.",
        "erase_button": "Erase my data",
        "copy_sent_title": "A copy is on its way",
        "copy_sent_body": "A copy of your data was sent to the address this message was sent "
        "to. It should arrive within a few minutes.",
        "copy_recent_body": "A copy was already sent on {date}. Please look in your mailbox, "
        "and in its spam folder.",
        "copy_nothing_body": "The register holds no data about your address, so there is "
        "nothing to send.",
        "erase_title": "Erase my data",
        "erase_confirm_intro": "This erases the data held about your address in this service: "
        "contact details, data source, consent and purchase records. Your address is kept only "
        "as a one-way code, so that you never receive commercial messages through it again.",
        "erase_confirm_button": "Yes, erase my data",
        "erase_done_title": "Your data is erased",
        "erase_done_body": "The data about your address has been erased. You will not receive "
        "commercial messages through this service any more.",
        "erase_done_note": "This took effect immediately. {sender} has been informed.",
        "back_link": "Back to the explanation",
        "mail_subject": "Your data held by {sender}",
        "mail_intro": "You asked on {date} for a copy of the data held about your address. "
        "Here is everything this service holds about it on behalf of {sender}.",
        "mail_contact_heading": "Register entry",
        "mail_no_contact": "No register entry.",
        "mail_suppressions_heading": "Objections recorded (suppression list)",
        "mail_none": "None.",
        "mail_sends_heading": "Messages",
        "mail_first_message": "First-contact notice sent on",
        "mail_repermission": "Re-permission message sent on",
        "mail_records": "{count} decisions recorded about messages to your address "
        "(date, campaign, decision, legal basis):",
        "mail_records_more": "(the {shown} most recent are listed)",
        "mail_outro": "This message answers your request under Article 15 of the GDPR. "
        "To have your data erased, use the link at the bottom of any message from {sender}.",
    },
    "fr": {
        "method_checkbox": "une case cochée par vous",
        "method_double-opt-in": "un e-mail de confirmation (double opt-in)",
        "method_form": "un formulaire",
        "method_pre-ticked": "une case pré-cochée",
        "method_terms": "les conditions générales",
        "why_link": "Pourquoi est-ce que je reçois ce message ? Vos données et vos droits",
        "why_title": "Pourquoi est-ce que je reçois ce message ?",
        "why_intro": "Qui vous a envoyé ce message, d'où provient votre adresse, et sur quelle "
        "base légale.",
        "controller_heading": "Le responsable",
        "controller_label": "Responsable du traitement",
        "postal_label": "Adresse postale",
        "privacy_label": "Politique de confidentialité",
        "authority_label": "Réclamations",
        "source_heading": "D'où provient votre adresse",
        "source_label": "Source des données",
        "collected_label": "Collectée le",
        "not_recorded": "non enregistré",
        "basis_heading": "Base légale de ce message",
        "basis_recorded": "Telle qu'enregistrée à l'envoi du message, le {date} :",
        "basis_recomputed": "L'envoi de ce message n'est plus conservé (les traces d'envoi "
        "sont gardées {days} jours). Recalculée d'après le registre tel qu'il est aujourd'hui :",
        "basis_unknown": "L'envoi de ce message n'est plus conservé, et le registre ne contient "
        "rien qui puisse fonder un envoi.",
        "basis_consent": "votre consentement",
        "basis_soft-optin": "vous êtes client·e : un message sur des produits analogues à ceux "
        "que vous avez achetés (exception « soft opt-in »)",
        "basis_b2b-relevance": "intérêt légitime : une offre professionnelle en rapport avec "
        "votre fonction",
        "basis_generic-optout": "une adresse professionnelle générique (pas celle d'une "
        "personne nommée)",
        "basis_repermission": "un message unique vous demandant si vous souhaitez continuer à "
        "recevoir nos messages",
        "basis_transactional": "pas un message commercial (message transactionnel)",
        "basis_none": "aucune base légale n'a été enregistrée",
        "consent_at_label": "Consentement donné le",
        "consent_method_label": "Recueilli par",
        "product_label": "Famille de produits de l'offre",
        "customer_of_label": "Produits achetés",
        "job_label": "Votre fonction telle qu'enregistrée",
        "targets_label": "Fonctions visées par l'offre",
        "retention_heading": "Quand vos données seront supprimées",
        "retention_date": "Le {date} au plus tard, sauf si vous êtes de nouveau en contact avec "
        "{sender} d'ici là.",
        "retention_none": "Aucune date de collecte n'est enregistrée : aucune date de "
        "suppression ne peut être calculée. Vous pouvez faire effacer vos données ci-dessous.",
        "nothing_held": "Le registre ne contient aucune donnée sur votre adresse.",
        "rights_heading": "Vos droits",
        "copy_intro": "Recevoir une copie de toutes les données détenues sur votre adresse. "
        "Elle est envoyée à l'adresse à laquelle ce message a été envoyé.",
        "copy_button": "M'envoyer une copie de mes données",
        "erase_intro": "Faire effacer vos données. Votre adresse n'est alors conservée que sous "
        "forme d'empreinte irréversible dans la liste d'opposition, pour ne plus jamais vous "
        "écrire.",
        "erase_button": "Effacer mes données",
        "copy_sent_title": "Une copie vous a été envoyée",
        "copy_sent_body": "Une copie de vos données a été envoyée à l'adresse à laquelle ce "
        "message a été envoyé. Elle devrait arriver d'ici quelques minutes.",
        "copy_recent_body": "Une copie a déjà été envoyée le {date}. Consultez votre boîte de "
        "réception, ainsi que le dossier des indésirables.",
        "copy_nothing_body": "Le registre ne contient aucune donnée sur votre adresse : il n'y "
        "a rien à envoyer.",
        "erase_title": "Effacer mes données",
        "erase_confirm_intro": "Cela efface les données détenues sur votre adresse dans ce "
        "service : coordonnées, source, consentement et achats. Votre adresse n'est conservée "
        "que sous forme d'empreinte irréversible, pour ne plus jamais recevoir de messages "
        "commerciaux.",
        "erase_confirm_button": "Oui, effacer mes données",
        "erase_done_title": "Vos données sont effacées",
        "erase_done_body": "Les données concernant votre adresse ont été effacées. Vous ne "
        "recevrez plus de messages commerciaux par ce service.",
        "erase_done_note": "Effacement immédiat. {sender} en a été informé.",
        "back_link": "Retour aux explications",
        "mail_subject": "Vos données détenues par {sender}",
        "mail_intro": "Vous avez demandé le {date} une copie des données détenues sur votre "
        "adresse. Voici tout ce que ce service conserve à son sujet pour le compte de {sender}.",
        "mail_contact_heading": "Fiche du registre",
        "mail_no_contact": "Aucune fiche dans le registre.",
        "mail_suppressions_heading": "Oppositions enregistrées (liste d'opposition)",
        "mail_none": "Aucune.",
        "mail_sends_heading": "Messages",
        "mail_first_message": "Notice de premier contact envoyée le",
        "mail_repermission": "Message de renouvellement du consentement envoyé le",
        "mail_records": "{count} décisions enregistrées sur des messages à votre adresse "
        "(date, campagne, décision, base légale) :",
        "mail_records_more": "(les {shown} plus récentes sont listées)",
        "mail_outro": "Ce message répond à votre demande au titre de l'article 15 du RGPD. "
        "Pour faire effacer vos données, utilisez le lien en bas de tout message de {sender}.",
    },
    "de": {
        "method_checkbox": "ein von Ihnen angekreuztes Kästchen",
        "method_double-opt-in": "eine Bestätigungs-E-Mail (Double-Opt-in)",
        "method_form": "ein Formular",
        "method_pre-ticked": "ein vorangekreuztes Kästchen",
        "method_terms": "die Allgemeinen Geschäftsbedingungen",
        "why_link": "Warum erhalte ich diese Nachricht? Ihre Daten und Ihre Rechte",
        "why_title": "Warum erhalte ich diese Nachricht?",
        "why_intro": "Wer Ihnen diese Nachricht geschickt hat, woher Ihre Adresse stammt und "
        "auf welcher Rechtsgrundlage.",
        "controller_heading": "Verantwortlich",
        "controller_label": "Verantwortlicher",
        "postal_label": "Postanschrift",
        "privacy_label": "Datenschutzerklärung",
        "authority_label": "Beschwerden",
        "source_heading": "Woher Ihre Adresse stammt",
        "source_label": "Datenquelle",
        "collected_label": "Erhoben am",
        "not_recorded": "nicht erfasst",
        "basis_heading": "Rechtsgrundlage dieser Nachricht",
        "basis_recorded": "Wie beim Versand der Nachricht am {date} festgehalten:",
        "basis_recomputed": "Der Versand dieser Nachricht ist nicht mehr gespeichert "
        "(Versandnachweise werden {days} Tage aufbewahrt). Neu ermittelt aus dem heutigen "
        "Stand des Registers:",
        "basis_unknown": "Der Versand dieser Nachricht ist nicht mehr gespeichert, und das "
        "Register enthält nichts, was eine Rechtsgrundlage sein könnte.",
        "basis_consent": "Ihre Einwilligung",
        "basis_soft-optin": "Sie sind Kunde: eine Nachricht über ähnliche Produkte wie die "
        "gekauften (Bestandskundenwerbung)",
        "basis_b2b-relevance": "berechtigtes Interesse: ein geschäftliches Angebot, das Ihre "
        "berufliche Tätigkeit betrifft",
        "basis_generic-optout": "eine allgemeine Firmenadresse (keine persönliche)",
        "basis_repermission": "eine einzige Nachricht mit der Frage, ob Sie weiter von uns "
        "hören möchten",
        "basis_transactional": "keine Werbenachricht (Transaktionsnachricht)",
        "basis_none": "keine Rechtsgrundlage festgehalten",
        "consent_at_label": "Einwilligung erteilt am",
        "consent_method_label": "Erteilt über",
        "product_label": "Produktfamilie des Angebots",
        "customer_of_label": "Gekaufte Produkte",
        "job_label": "Ihre erfasste berufliche Funktion",
        "targets_label": "Funktionen, die das Angebot betrifft",
        "retention_heading": "Wann Ihre Daten gelöscht werden",
        "retention_date": "Spätestens am {date}, es sei denn, Sie stehen bis dahin erneut mit "
        "{sender} in Kontakt.",
        "retention_none": "Es ist kein Erhebungsdatum erfasst, daher lässt sich kein "
        "Löschdatum berechnen. Sie können Ihre Daten unten sofort löschen lassen.",
        "nothing_held": "Das Register enthält keine Daten zu Ihrer Adresse.",
        "rights_heading": "Ihre Rechte",
        "copy_intro": "Eine Kopie aller zu Ihrer Adresse gespeicherten Daten erhalten. Sie "
        "wird an die Adresse geschickt, an die diese Nachricht ging.",
        "copy_button": "Kopie meiner Daten senden",
        "erase_intro": "Ihre Daten löschen lassen. Ihre Adresse bleibt dann nur als "
        "nicht umkehrbarer Code auf der Sperrliste, damit Sie nie wieder angeschrieben werden.",
        "erase_button": "Meine Daten löschen",
        "copy_sent_title": "Die Kopie ist unterwegs",
        "copy_sent_body": "Eine Kopie Ihrer Daten wurde an die Adresse geschickt, an die diese "
        "Nachricht ging. Sie sollte in wenigen Minuten ankommen.",
        "copy_recent_body": "Eine Kopie wurde bereits am {date} geschickt. Bitte sehen Sie in "
        "Ihrem Posteingang und im Spam-Ordner nach.",
        "copy_nothing_body": "Das Register enthält keine Daten zu Ihrer Adresse, es gibt "
        "nichts zu senden.",
        "erase_title": "Meine Daten löschen",
        "erase_confirm_intro": "Damit werden die zu Ihrer Adresse gespeicherten Daten in "
        "diesem Dienst gelöscht: Kontaktdaten, Datenquelle, Einwilligungs- und Kaufdaten. "
        "Ihre Adresse bleibt nur als nicht umkehrbarer Code, damit Sie darüber nie wieder "
        "Werbung erhalten.",
        "erase_confirm_button": "Ja, meine Daten löschen",
        "erase_done_title": "Ihre Daten sind gelöscht",
        "erase_done_body": "Die Daten zu Ihrer Adresse wurden gelöscht. Sie erhalten über "
        "diesen Dienst keine Werbenachrichten mehr.",
        "erase_done_note": "Die Löschung gilt sofort. {sender} wurde informiert.",
        "back_link": "Zurück zur Erklärung",
        "mail_subject": "Ihre Daten bei {sender}",
        "mail_intro": "Sie haben am {date} eine Kopie der zu Ihrer Adresse gespeicherten Daten "
        "angefordert. Hier ist alles, was dieser Dienst im Auftrag von {sender} dazu speichert.",
        "mail_contact_heading": "Registereintrag",
        "mail_no_contact": "Kein Registereintrag.",
        "mail_suppressions_heading": "Erfasste Widersprüche (Sperrliste)",
        "mail_none": "Keine.",
        "mail_sends_heading": "Nachrichten",
        "mail_first_message": "Hinweis beim Erstkontakt gesendet am",
        "mail_repermission": "Nachfrage zur erneuten Einwilligung gesendet am",
        "mail_records": "{count} festgehaltene Entscheidungen zu Nachrichten an Ihre Adresse "
        "(Datum, Kampagne, Entscheidung, Rechtsgrundlage):",
        "mail_records_more": "(die {shown} neuesten sind aufgeführt)",
        "mail_outro": "Diese Nachricht beantwortet Ihre Anfrage nach Artikel 15 DSGVO. Um Ihre "
        "Daten löschen zu lassen, nutzen Sie den Link am Ende jeder Nachricht von {sender}.",
    },
    "es": {
        "method_checkbox": "una casilla que usted marcó",
        "method_double-opt-in": "un correo de confirmación (doble opt-in)",
        "method_form": "un formulario",
        "method_pre-ticked": "una casilla premarcada",
        "method_terms": "las condiciones generales",
        "why_link": "¿Por qué recibo este mensaje? Sus datos y sus derechos",
        "why_title": "¿Por qué recibo este mensaje?",
        "why_intro": "Quién le envió este mensaje, de dónde procede su dirección y con qué "
        "base jurídica.",
        "controller_heading": "El responsable",
        "controller_label": "Responsable del tratamiento",
        "postal_label": "Dirección postal",
        "privacy_label": "Política de privacidad",
        "authority_label": "Reclamaciones",
        "source_heading": "De dónde procede su dirección",
        "source_label": "Origen de los datos",
        "collected_label": "Recogida el",
        "not_recorded": "no registrado",
        "basis_heading": "Base jurídica de este mensaje",
        "basis_recorded": "Tal como se registró al enviar el mensaje, el {date}:",
        "basis_recomputed": "El envío de este mensaje ya no se conserva (los registros de envío "
        "se guardan {days} días). Recalculada según el registro tal como está hoy:",
        "basis_unknown": "El envío de este mensaje ya no se conserva y el registro no contiene "
        "nada que pueda servir de base jurídica.",
        "basis_consent": "su consentimiento",
        "basis_soft-optin": "usted es cliente: un mensaje sobre productos similares a los que "
        "compró (soft opt-in)",
        "basis_b2b-relevance": "interés legítimo: una oferta profesional relacionada con su puesto",
        "basis_generic-optout": "una dirección profesional genérica (no de una persona)",
        "basis_repermission": "un único mensaje preguntándole si desea seguir recibiendo "
        "nuestros mensajes",
        "basis_transactional": "no es un mensaje comercial (transaccional)",
        "basis_none": "no se registró ninguna base jurídica",
        "consent_at_label": "Consentimiento dado el",
        "consent_method_label": "Forma de obtención",
        "product_label": "Familia de productos de la oferta",
        "customer_of_label": "Productos comprados",
        "job_label": "Su puesto tal como está registrado",
        "targets_label": "Puestos a los que se dirige la oferta",
        "retention_heading": "Cuándo se suprimirán sus datos",
        "retention_date": "El {date} a más tardar, salvo que vuelva a estar en contacto con "
        "{sender} antes.",
        "retention_none": "No consta fecha de recogida, por lo que no se puede calcular una "
        "fecha de supresión. Puede suprimir sus datos ahora, más abajo.",
        "nothing_held": "El registro no contiene datos sobre su dirección.",
        "rights_heading": "Sus derechos",
        "copy_intro": "Recibir una copia de todos los datos sobre su dirección. Se envía a la "
        "dirección a la que se envió este mensaje.",
        "copy_button": "Enviarme una copia de mis datos",
        "erase_intro": "Suprimir sus datos. Su dirección se conserva entonces solo como un "
        "código irreversible en la lista de exclusión, para no volver a escribirle nunca.",
        "erase_button": "Suprimir mis datos",
        "copy_sent_title": "La copia está en camino",
        "copy_sent_body": "Se envió una copia de sus datos a la dirección a la que se envió "
        "este mensaje. Debería llegar en unos minutos.",
        "copy_recent_body": "Ya se envió una copia el {date}. Revise su bandeja de entrada y "
        "la carpeta de correo no deseado.",
        "copy_nothing_body": "El registro no contiene datos sobre su dirección: no hay nada "
        "que enviar.",
        "erase_title": "Suprimir mis datos",
        "erase_confirm_intro": "Esto suprime los datos sobre su dirección en este servicio: "
        "datos de contacto, origen, consentimiento y compras. Su dirección se conserva solo "
        "como un código irreversible, para que no vuelva a recibir mensajes comerciales.",
        "erase_confirm_button": "Sí, suprimir mis datos",
        "erase_done_title": "Sus datos se han suprimido",
        "erase_done_body": "Los datos sobre su dirección se han suprimido. No recibirá más "
        "mensajes comerciales a través de este servicio.",
        "erase_done_note": "Surte efecto de inmediato. Se ha informado a {sender}.",
        "back_link": "Volver a la explicación",
        "mail_subject": "Sus datos en poder de {sender}",
        "mail_intro": "El {date} solicitó una copia de los datos sobre su dirección. Esto es "
        "todo lo que este servicio conserva sobre ella por cuenta de {sender}.",
        "mail_contact_heading": "Ficha del registro",
        "mail_no_contact": "Ninguna ficha en el registro.",
        "mail_suppressions_heading": "Oposiciones registradas (lista de exclusión)",
        "mail_none": "Ninguna.",
        "mail_sends_heading": "Mensajes",
        "mail_first_message": "Aviso de primer contacto enviado el",
        "mail_repermission": "Mensaje de renovación del consentimiento enviado el",
        "mail_records": "{count} decisiones registradas sobre mensajes a su dirección "
        "(fecha, campaña, decisión, base jurídica):",
        "mail_records_more": "(se listan las {shown} más recientes)",
        "mail_outro": "Este mensaje responde a su solicitud según el artículo 15 del RGPD. "
        "Para suprimir sus datos, use el enlace al pie de cualquier mensaje de {sender}.",
    },
    "it": {
        "method_checkbox": "una casella da lei spuntata",
        "method_double-opt-in": "un'e-mail di conferma (doppio opt-in)",
        "method_form": "un modulo",
        "method_pre-ticked": "una casella già spuntata",
        "method_terms": "le condizioni generali",
        "why_link": "Perché ricevo questo messaggio? I suoi dati e i suoi diritti",
        "why_title": "Perché ricevo questo messaggio?",
        "why_intro": "Chi le ha inviato questo messaggio, da dove proviene il suo indirizzo e "
        "su quale base giuridica.",
        "controller_heading": "Il titolare",
        "controller_label": "Titolare del trattamento",
        "postal_label": "Indirizzo postale",
        "privacy_label": "Informativa sulla privacy",
        "authority_label": "Reclami",
        "source_heading": "Da dove proviene il suo indirizzo",
        "source_label": "Fonte dei dati",
        "collected_label": "Raccolto il",
        "not_recorded": "non registrato",
        "basis_heading": "Base giuridica di questo messaggio",
        "basis_recorded": "Come registrata all'invio del messaggio, il {date}:",
        "basis_recomputed": "L'invio di questo messaggio non è più conservato (le tracce di "
        "invio sono tenute {days} giorni). Ricalcolata dal registro com'è oggi:",
        "basis_unknown": "L'invio di questo messaggio non è più conservato e il registro non "
        "contiene nulla che possa essere una base giuridica.",
        "basis_consent": "il suo consenso",
        "basis_soft-optin": "lei è cliente: un messaggio su prodotti analoghi a quelli "
        "acquistati (soft opt-in)",
        "basis_b2b-relevance": "legittimo interesse: un'offerta professionale legata al suo ruolo",
        "basis_generic-optout": "un indirizzo aziendale generico (non di una persona)",
        "basis_repermission": "un unico messaggio per chiederle se desidera continuare a "
        "ricevere i nostri messaggi",
        "basis_transactional": "non un messaggio commerciale (transazionale)",
        "basis_none": "nessuna base giuridica registrata",
        "consent_at_label": "Consenso dato il",
        "consent_method_label": "Modalità di raccolta",
        "product_label": "Famiglia di prodotti dell'offerta",
        "customer_of_label": "Prodotti acquistati",
        "job_label": "Il suo ruolo come registrato",
        "targets_label": "Ruoli a cui si rivolge l'offerta",
        "retention_heading": "Quando i suoi dati saranno cancellati",
        "retention_date": "Entro il {date}, a meno che nel frattempo lei non sia di nuovo in "
        "contatto con {sender}.",
        "retention_none": "Non è registrata una data di raccolta, quindi non si può calcolare "
        "una data di cancellazione. Può far cancellare i suoi dati qui sotto.",
        "nothing_held": "Il registro non contiene dati sul suo indirizzo.",
        "rights_heading": "I suoi diritti",
        "copy_intro": "Ricevere una copia di tutti i dati sul suo indirizzo. Viene inviata "
        "all'indirizzo a cui è stato inviato questo messaggio.",
        "copy_button": "Inviami una copia dei miei dati",
        "erase_intro": "Far cancellare i suoi dati. Il suo indirizzo resta solo come codice "
        "irreversibile nella lista di esclusione, per non scriverle mai più.",
        "erase_button": "Cancella i miei dati",
        "copy_sent_title": "La copia è in arrivo",
        "copy_sent_body": "Una copia dei suoi dati è stata inviata all'indirizzo a cui è stato "
        "inviato questo messaggio. Dovrebbe arrivare entro pochi minuti.",
        "copy_recent_body": "Una copia è già stata inviata il {date}. Controlli la posta in "
        "arrivo e la cartella dello spam.",
        "copy_nothing_body": "Il registro non contiene dati sul suo indirizzo: non c'è nulla "
        "da inviare.",
        "erase_title": "Cancella i miei dati",
        "erase_confirm_intro": "Così si cancellano i dati sul suo indirizzo in questo servizio: "
        "recapiti, fonte, consenso e acquisti. Il suo indirizzo resta solo come codice "
        "irreversibile, perché non riceva mai più messaggi commerciali.",
        "erase_confirm_button": "Sì, cancella i miei dati",
        "erase_done_title": "I suoi dati sono stati cancellati",
        "erase_done_body": "I dati sul suo indirizzo sono stati cancellati. Non riceverà più "
        "messaggi commerciali tramite questo servizio.",
        "erase_done_note": "Ha effetto immediato. {sender} è stato informato.",
        "back_link": "Torna alla spiegazione",
        "mail_subject": "I suoi dati presso {sender}",
        "mail_intro": "Il {date} ha chiesto una copia dei dati sul suo indirizzo. Ecco tutto "
        "ciò che questo servizio conserva per conto di {sender}.",
        "mail_contact_heading": "Scheda del registro",
        "mail_no_contact": "Nessuna scheda nel registro.",
        "mail_suppressions_heading": "Opposizioni registrate (lista di esclusione)",
        "mail_none": "Nessuna.",
        "mail_sends_heading": "Messaggi",
        "mail_first_message": "Informativa di primo contatto inviata il",
        "mail_repermission": "Messaggio di rinnovo del consenso inviato il",
        "mail_records": "{count} decisioni registrate su messaggi al suo indirizzo "
        "(data, campagna, decisione, base giuridica):",
        "mail_records_more": "(sono elencate le {shown} più recenti)",
        "mail_outro": "Questo messaggio risponde alla sua richiesta ai sensi dell'articolo 15 "
        "del GDPR. Per far cancellare i suoi dati, usi il link in fondo a ogni messaggio di "
        "{sender}.",
    },
    "nl": {
        "method_checkbox": "een vakje dat u aanvinkte",
        "method_double-opt-in": "een bevestigingsmail (double opt-in)",
        "method_form": "een formulier",
        "method_pre-ticked": "een vooraf aangevinkt vakje",
        "method_terms": "de algemene voorwaarden",
        "why_link": "Waarom ontvang ik dit bericht? Uw gegevens en uw rechten",
        "why_title": "Waarom ontvang ik dit bericht?",
        "why_intro": "Wie u dit bericht stuurde, waar uw adres vandaan komt en op welke "
        "rechtsgrond.",
        "controller_heading": "Wie is verantwoordelijk",
        "controller_label": "Verwerkingsverantwoordelijke",
        "postal_label": "Postadres",
        "privacy_label": "Privacybeleid",
        "authority_label": "Klachten",
        "source_heading": "Waar uw adres vandaan komt",
        "source_label": "Gegevensbron",
        "collected_label": "Verzameld op",
        "not_recorded": "niet vastgelegd",
        "basis_heading": "Rechtsgrond van dit bericht",
        "basis_recorded": "Zoals vastgelegd bij het versturen van het bericht, op {date}:",
        "basis_recomputed": "Het versturen van dit bericht is niet meer bewaard (verzendgegevens "
        "worden {days} dagen bewaard). Opnieuw bepaald uit het register zoals het nu is:",
        "basis_unknown": "Het versturen van dit bericht is niet meer bewaard, en het register "
        "bevat niets dat een rechtsgrond kan zijn.",
        "basis_consent": "uw toestemming",
        "basis_soft-optin": "u bent klant: een bericht over producten die lijken op wat u "
        "kocht (soft opt-in)",
        "basis_b2b-relevance": "gerechtvaardigd belang: een zakelijk aanbod dat met uw functie "
        "te maken heeft",
        "basis_generic-optout": "een algemeen zakelijk adres (niet van een persoon)",
        "basis_repermission": "één enkel bericht met de vraag of u nog van ons wilt horen",
        "basis_transactional": "geen commercieel bericht (transactioneel)",
        "basis_none": "er is geen rechtsgrond vastgelegd",
        "consent_at_label": "Toestemming gegeven op",
        "consent_method_label": "Hoe gegeven",
        "product_label": "Productgroep van het aanbod",
        "customer_of_label": "Gekochte producten",
        "job_label": "Uw functie zoals vastgelegd",
        "targets_label": "Functies waarop het aanbod gericht is",
        "retention_heading": "Wanneer uw gegevens worden verwijderd",
        "retention_date": "Uiterlijk op {date}, tenzij u voor die tijd opnieuw contact heeft "
        "met {sender}.",
        "retention_none": "Er is geen verzameldatum vastgelegd, dus er kan geen "
        "verwijderdatum worden berekend. U kunt uw gegevens hieronder nu laten wissen.",
        "nothing_held": "Het register bevat geen gegevens over uw adres.",
        "rights_heading": "Uw rechten",
        "copy_intro": "Een kopie ontvangen van alle gegevens over uw adres. Die wordt gestuurd "
        "naar het adres waarnaar dit bericht ging.",
        "copy_button": "Stuur mij een kopie van mijn gegevens",
        "erase_intro": "Uw gegevens laten wissen. Uw adres blijft dan alleen als "
        "onomkeerbare code op de blokkeerlijst, zodat u nooit meer wordt gemaild.",
        "erase_button": "Wis mijn gegevens",
        "copy_sent_title": "De kopie is onderweg",
        "copy_sent_body": "Een kopie van uw gegevens is gestuurd naar het adres waarnaar dit "
        "bericht ging. Die komt binnen enkele minuten aan.",
        "copy_recent_body": "Er is al een kopie gestuurd op {date}. Kijk in uw inbox en in de "
        "map met ongewenste e-mail.",
        "copy_nothing_body": "Het register bevat geen gegevens over uw adres: er is niets te "
        "versturen.",
        "erase_title": "Wis mijn gegevens",
        "erase_confirm_intro": "Hiermee worden de gegevens over uw adres in deze dienst gewist: "
        "contactgegevens, bron, toestemming en aankopen. Uw adres blijft alleen als "
        "onomkeerbare code, zodat u er nooit meer commerciële berichten op ontvangt.",
        "erase_confirm_button": "Ja, wis mijn gegevens",
        "erase_done_title": "Uw gegevens zijn gewist",
        "erase_done_body": "De gegevens over uw adres zijn gewist. U ontvangt via deze dienst "
        "geen commerciële berichten meer.",
        "erase_done_note": "Dit gaat direct in. {sender} is op de hoogte gebracht.",
        "back_link": "Terug naar de uitleg",
        "mail_subject": "Uw gegevens bij {sender}",
        "mail_intro": "U vroeg op {date} om een kopie van de gegevens over uw adres. Dit is "
        "alles wat deze dienst er namens {sender} over bewaart.",
        "mail_contact_heading": "Registervermelding",
        "mail_no_contact": "Geen registervermelding.",
        "mail_suppressions_heading": "Vastgelegde bezwaren (blokkeerlijst)",
        "mail_none": "Geen.",
        "mail_sends_heading": "Berichten",
        "mail_first_message": "Kennisgeving bij eerste contact verstuurd op",
        "mail_repermission": "Bericht om opnieuw toestemming te vragen verstuurd op",
        "mail_records": "{count} vastgelegde beslissingen over berichten aan uw adres "
        "(datum, campagne, beslissing, rechtsgrond):",
        "mail_records_more": "(de {shown} meest recente staan hieronder)",
        "mail_outro": "Dit bericht beantwoordt uw verzoek op grond van artikel 15 AVG. Om uw "
        "gegevens te laten wissen, gebruikt u de link onderaan elk bericht van {sender}.",
    },
}

# Labels of the register's columns in the copy's email (the CSV column names stay visible
# in brackets, so the copy can be matched with the controller's own files).
FIELD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "email": "Email address",
        "kind": "Kind of address",
        "country": "Country",
        "source": "Data source",
        "source_kind": "Kind of source",
        "collected_at": "Collected on",
        "consent": "Consent",
        "consent_at": "Consent date",
        "consent_method": "Consent method",
        "consent_proof": "Proof of consent",
        "consent_controller": "Consent given to",
        "partner_named": "Partner named at collection",
        "customer_of": "Products bought",
        "last_purchase": "Last purchase",
        "objection_offered": "Objection offered at collection",
        "marketing_refused": "Marketing refused",
        "job_function": "Job function",
        "last_interaction": "Last interaction",
        "contract_until": "Contract in progress until",
    },
    "fr": {
        "email": "Adresse e-mail",
        "kind": "Type d'adresse",
        "country": "Pays",
        "source": "Source des données",
        "source_kind": "Type de source",
        "collected_at": "Collectée le",
        "consent": "Consentement",
        "consent_at": "Date du consentement",
        "consent_method": "Mode de recueil",
        "consent_proof": "Preuve du consentement",
        "consent_controller": "Consentement donné à",
        "partner_named": "Partenaire nommé à la collecte",
        "customer_of": "Produits achetés",
        "last_purchase": "Dernier achat",
        "objection_offered": "Opposition proposée à la collecte",
        "marketing_refused": "Prospection refusée",
        "job_function": "Fonction",
        "last_interaction": "Dernier échange",
        "contract_until": "Contrat en cours jusqu'au",
    },
    "de": {
        "email": "E-Mail-Adresse",
        "kind": "Art der Adresse",
        "country": "Land",
        "source": "Datenquelle",
        "source_kind": "Art der Quelle",
        "collected_at": "Erhoben am",
        "consent": "Einwilligung",
        "consent_at": "Datum der Einwilligung",
        "consent_method": "Art der Einwilligung",
        "consent_proof": "Nachweis der Einwilligung",
        "consent_controller": "Einwilligung erteilt an",
        "partner_named": "Partner bei Erhebung genannt",
        "customer_of": "Gekaufte Produkte",
        "last_purchase": "Letzter Kauf",
        "objection_offered": "Widerspruch bei Erhebung angeboten",
        "marketing_refused": "Werbung abgelehnt",
        "job_function": "Berufliche Funktion",
        "last_interaction": "Letzter Kontakt",
        "contract_until": "Laufender Vertrag bis",
    },
    "es": {
        "email": "Dirección de correo",
        "kind": "Tipo de dirección",
        "country": "País",
        "source": "Origen de los datos",
        "source_kind": "Tipo de origen",
        "collected_at": "Recogida el",
        "consent": "Consentimiento",
        "consent_at": "Fecha del consentimiento",
        "consent_method": "Forma del consentimiento",
        "consent_proof": "Prueba del consentimiento",
        "consent_controller": "Consentimiento dado a",
        "partner_named": "Socio nombrado en la recogida",
        "customer_of": "Productos comprados",
        "last_purchase": "Última compra",
        "objection_offered": "Oposición ofrecida en la recogida",
        "marketing_refused": "Publicidad rechazada",
        "job_function": "Puesto",
        "last_interaction": "Último contacto",
        "contract_until": "Contrato en curso hasta",
    },
    "it": {
        "email": "Indirizzo e-mail",
        "kind": "Tipo di indirizzo",
        "country": "Paese",
        "source": "Fonte dei dati",
        "source_kind": "Tipo di fonte",
        "collected_at": "Raccolto il",
        "consent": "Consenso",
        "consent_at": "Data del consenso",
        "consent_method": "Modalità del consenso",
        "consent_proof": "Prova del consenso",
        "consent_controller": "Consenso dato a",
        "partner_named": "Partner indicato alla raccolta",
        "customer_of": "Prodotti acquistati",
        "last_purchase": "Ultimo acquisto",
        "objection_offered": "Opposizione offerta alla raccolta",
        "marketing_refused": "Marketing rifiutato",
        "job_function": "Ruolo",
        "last_interaction": "Ultimo contatto",
        "contract_until": "Contratto in corso fino al",
    },
    "nl": {
        "email": "E-mailadres",
        "kind": "Soort adres",
        "country": "Land",
        "source": "Gegevensbron",
        "source_kind": "Soort bron",
        "collected_at": "Verzameld op",
        "consent": "Toestemming",
        "consent_at": "Datum toestemming",
        "consent_method": "Wijze van toestemming",
        "consent_proof": "Bewijs van toestemming",
        "consent_controller": "Toestemming gegeven aan",
        "partner_named": "Partner genoemd bij verzameling",
        "customer_of": "Gekochte producten",
        "last_purchase": "Laatste aankoop",
        "objection_offered": "Bezwaar aangeboden bij verzameling",
        "marketing_refused": "Marketing geweigerd",
        "job_function": "Functie",
        "last_interaction": "Laatste contact",
        "contract_until": "Lopend contract tot",
    },
}
