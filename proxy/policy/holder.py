"""The current policy, swapped atomically on reload; a bad reload keeps the old one."""

from __future__ import annotations

import logging
from pathlib import Path

from proxy.errors import ConfigError
from proxy.policy.policy_file import Policy, load_policy, policy_version

__all__ = ["PolicyHolder"]

log = logging.getLogger(__name__)


class PolicyHolder:
    """Holds the loaded policy; readers take `current` once per decision step.

    Loading happens at start (an invalid file stops the relay with the problems listed) and
    on SIGHUP (an invalid file is logged and the running policy stays in force).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: Policy = load_policy(path)

    @property
    def version(self) -> str:
        return policy_version(self.current)

    def reload(self) -> bool:
        """Load the file again; True when the new policy is in force."""
        try:
            policy = load_policy(self.path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("policy reload failed, keeping version %s: %s", self.version, problem)
            return False
        self.current = policy
        log.info("policy reloaded from %s: version %s", self.path, self.version)
        return True
