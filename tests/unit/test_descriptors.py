"""The descriptor budget covers every connection the limits allow (issue 11 item 3)."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from proxy.descriptors import descriptors_needed, ensure_descriptors
from proxy.errors import ConfigError
from proxy.settings import Settings


@pytest.fixture
def restore_limit() -> Iterator[tuple[int, int]]:
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield limits
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_budget_counts_smtp_both_web_listeners_and_pools() -> None:
    settings = Settings(
        smtp={"max_connections": 100},
        web={"max_connections": 50},
        database={"pool_size": 5},
        upstream={"pool_size": 4},
    )
    assert descriptors_needed(settings) == 100 + 2 * 50 + 2 * 5 + 4 + 64
    assert descriptors_needed(Settings(smtp={"max_connections": 100}, web={"enabled": False})) < (
        descriptors_needed(Settings(smtp={"max_connections": 100}))
    )


def test_soft_limit_is_raised_to_what_the_settings_need(restore_limit: tuple[int, int]) -> None:
    _, hard = restore_limit
    settings = Settings(smtp={"max_connections": 300})
    needed = descriptors_needed(settings)
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"this machine's hard limit ({hard}) is below {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed - 100, hard))
    assert ensure_descriptors(settings) == needed
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == needed


def test_limits_beyond_the_hard_limit_refuse_to_start(restore_limit: tuple[int, int]) -> None:
    _, hard = restore_limit
    limit = hard if hard != resource.RLIM_INFINITY else 1 << 20
    settings = Settings(smtp={"max_connections": limit})
    with pytest.raises(ConfigError, match="raise LimitNOFILE"):
        ensure_descriptors(settings)
