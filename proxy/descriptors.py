"""File descriptors: the process must have enough for every connection its limits allow.

SMTP sessions, web connections (public and operations listeners), the database pool and the
upstream pool all take descriptors from one per-process budget. If the limits could add up to
more than the budget, a flood on the web listener would make SMTP's accept fail (EMFILE): the
relay raises its soft limit to what the settings need, or refuses to start saying which limit
to change.
"""

from __future__ import annotations

import resource

from proxy.errors import ConfigError, ConfigProblem
from proxy.settings import Settings

__all__ = ["descriptors_needed", "ensure_descriptors"]

_SPARE = 64  # log files, the policy file, DNS, the listening sockets, a CLI thread's database


def descriptors_needed(settings: Settings) -> int:
    web = 2 * settings.web.max_connections if settings.web.enabled else 0
    database = 2 * settings.database.pool_size  # pool plus its overflow
    return settings.smtp.max_connections + web + database + settings.upstream.pool_size + _SPARE


def ensure_descriptors(settings: Settings) -> int:
    """Raise the soft RLIMIT_NOFILE to what the settings need; the limit now in force."""
    needed = descriptors_needed(settings)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ConfigError(
                [
                    ConfigProblem(
                        "settings",
                        "smtp.max_connections",
                        f"smtp.max_connections, web.max_connections and the pools need {needed} "
                        f"file descriptors, the process may open {hard}: raise LimitNOFILE "
                        "(ulimit -n) or lower the connection limits",
                    )
                ]
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        soft = needed
    return soft
