"""The store: register, suppression list, send records and audit trail (SQLAlchemy async)."""

from __future__ import annotations

from proxy.store.database import create_engine
from proxy.store.hashing import (
    address_hash,
    domain_hash,
    keyed_sha256,
    normalise_address,
    sha256_hash,
)
from proxy.store.migrate import SchemaStatus, schema_is_current, schema_status, upgrade
from proxy.store.records import AuditRecord, ForgetResult, SuppressionEntry, UpsertResult
from proxy.store.scopes import GLOBAL_SCOPE, normalise_scope
from proxy.store.store import Store

__all__ = [
    "GLOBAL_SCOPE",
    "AuditRecord",
    "ForgetResult",
    "SchemaStatus",
    "Store",
    "SuppressionEntry",
    "UpsertResult",
    "address_hash",
    "create_engine",
    "domain_hash",
    "keyed_sha256",
    "normalise_address",
    "normalise_scope",
    "schema_is_current",
    "schema_status",
    "sha256_hash",
    "upgrade",
]
