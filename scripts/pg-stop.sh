#!/bin/sh
# Stop the throwaway PostgreSQL that scripts/pg-start.sh started (same PORT and DATA_DIR
# arguments and defaults). Does nothing when it is not running.
set -eu

PORT="${1:-${PGPORT_TEST:-54329}}"
DATA="${2:-/tmp/prospect-relay-pg-$PORT}"
BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -f "$DATA/PG_VERSION" ] && [ -x "$BIN/pg_ctl" ] || exit 0

if [ "$(id -u)" = "0" ]; then
    run() { su postgres -s /bin/sh -c "$*"; }
else
    run() { sh -c "$*"; }
fi
if run "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
    run "'$BIN/pg_ctl' -D '$DATA' -m fast -w stop" >/dev/null
fi
