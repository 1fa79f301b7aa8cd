"""`Store`: the one object the relay, the web pages and the CLI use to read and write facts.

It is the set of the store's areas on one database, each a small object whose SQL lives in
its own module, all reading and writing through one `Guard` (short transactions, deadline,
driver errors -> `StoreUnavailable`):

- lookups.FactsReader: the hot RCPT/DATA read (`load_recipient_facts`) and `ping`;
- suppressions.SuppressionList: add, lift, check, count, import, export suppressions;
- contacts.ContactRegister: the register (upserts, consent, re-spelling);
- sends.SendMarks: first-contact notice and re-permission marks;
- feedback_log.FeedbackLog: bounces and complaints;
- erasure.Erasure: `forget`;
- audit_rows.AuditRows: the audit trail's inserts.

The Store's methods are those objects' methods: callers need only the Store, and each
method's SQL is in the module of its area.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from proxy.feedback.events import NO_ROUTES, EventRoutes
from proxy.model import Suppression
from proxy.store.audit_rows import AuditRows
from proxy.store.contacts import ContactRegister
from proxy.store.erasure import Erasure
from proxy.store.feedback_log import FeedbackLog
from proxy.store.guard import Guard
from proxy.store.hasher import Hasher
from proxy.store.lookups import FactsReader
from proxy.store.sends import SendMarks
from proxy.store.suppressions import SuppressionList

__all__ = ["Store"]


class Store:
    """Register, suppression list, send marks, feedback and audit trail on one database.

    Every method opens its own short transaction, so callers never hold a connection
    across an SMTP round trip. Database errors and timeouts become `StoreUnavailable`:
    the relay answers 451 (fail closed) and the CLI prints one line.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        hash_key: bytes,
        *,
        timeout: float = 5.0,
        routes: EventRoutes = NO_ROUTES,
    ) -> None:
        hasher = Hasher(hash_key)
        guard = Guard(engine, timeout)
        self.address_hash = hasher.address  # the keyed hash suppressions, sends, audit hold
        self.sha256_key = hasher.sha256_key

        facts = FactsReader(guard, hasher)
        self.load_recipient_facts = facts.load_recipient_facts
        self.ping = facts.ping

        suppressions = SuppressionList(guard, hasher, routes)
        self.add_suppression = suppressions.add_suppression
        self.add_objection = suppressions.add_objection
        self.import_suppressions = suppressions.import_suppressions
        self.remove_suppression = suppressions.remove_suppression
        self.has_address_suppression = suppressions.has_address_suppression
        self.is_domain_suppressed = suppressions.is_domain_suppressed
        self.suppression_count = suppressions.suppression_count
        self.export_suppressions = suppressions.export_suppressions

        contacts = ContactRegister(guard, hasher, routes)
        self.get_contact = contacts.get_contact
        self.get_contact_by_hash = contacts.get_contact_by_hash
        self.upsert_contacts = contacts.upsert_contacts
        self.upsert_contact_rows = contacts.upsert_contact_rows
        self.set_consent = contacts.set_consent
        self.renormalise_addresses = contacts.renormalise_addresses

        sends = SendMarks(guard)
        self.record_first_message = sends.record_first_message
        self.record_repermission = sends.record_repermission
        self.release_repermission = sends.release_repermission

        feedback = FeedbackLog(guard, routes)
        self.record_feedback = feedback.record_feedback
        self.feedback_of = feedback.feedback_of

        erasure = Erasure(guard, hasher, routes)
        self.forget = erasure.forget
        self.forget_hash = erasure.forget_hash

        audit = AuditRows(guard)
        self.record_audit = audit.record_audit

    async def is_suppressed(self, address: str, scope: str | None = None) -> list[Suppression]:
        """The suppressions matching `address` (its hashes or its domain), optionally one scope."""
        facts = await self.load_recipient_facts([address])
        found = facts[address].suppressions
        return [entry for entry in found if scope is None or entry.scope == scope]
