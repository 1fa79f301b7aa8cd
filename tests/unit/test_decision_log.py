"""What the decision log says of an address, per `[log] recipients`."""

from __future__ import annotations

from proxy.audit import DecisionLog
from proxy.settings import LogSettings, RecipientLogging
from proxy.store.hashing import address_hash

KEY = b"decision-log-test-key-0123456789"


def test_hash_mode_uses_the_suppression_list_hash() -> None:
    """Hashed log lines join with suppressions and audit records (same key, same form)."""
    log = DecisionLog(LogSettings(recipients=RecipientLogging.HASH), KEY)
    expected = "h:" + address_hash(KEY, "marie@gmail.com")
    assert log.address("marie@gmail.com") == expected
    assert log.address(" Marie@GMAIL.com ") == expected
    assert log.address("marie+news@gmail.com") != expected


def test_mask_mode_hides_the_local_part() -> None:
    log = DecisionLog(LogSettings(), KEY)
    assert log.address("jean.dupont@Example.com") == "j***@example.com"
    assert log.address("") == "<>"
