#!/bin/sh
# Start a throwaway PostgreSQL (Debian packages) on 127.0.0.1 for tests; prints its URL.
# Usage: scripts/pg-start.sh [PORT] [DATA_DIR]   (defaults: 54329, /tmp/prospect-relay-pg-PORT)
# Idempotent: an already running server on that data directory is reused.
# Stop it with: scripts/pg-stop.sh [PORT] [DATA_DIR]  (scripts/test does, on exit).
set -eu

PORT="${1:-${PGPORT_TEST:-54329}}"
DATA="${2:-/tmp/prospect-relay-pg-$PORT}"
DB="${PROSPECT_RELAY_TEST_PG_DB:-prospect_relay_test}"

BIN="${PG_BIN:-}"
if [ -z "$BIN" ]; then
    BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
if [ ! -x "$BIN/initdb" ]; then
    echo "pg-start: PostgreSQL binaries not found (install Debian's postgresql or set PG_BIN)" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: run its tools as the postgres user in that case.
if [ "$(id -u)" = "0" ]; then
    run() { su postgres -s /bin/sh -c "$*"; }
else
    run() { sh -c "$*"; }
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
    mkdir -p "$DATA"
    if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$DATA"; fi
    chmod 700 "$DATA"
    run "'$BIN/initdb' -D '$DATA' -U postgres -A trust -E UTF8 --no-locale" >/dev/null
fi

if ! run "'$BIN/pg_ctl' -D '$DATA' status" >/dev/null 2>&1; then
    run "'$BIN/pg_ctl' -D '$DATA' -l '$DATA/server.log' -w -t 60 \
        -o \"-h 127.0.0.1 -p $PORT -k '$DATA' -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200\" start" >/dev/null
fi

run "'$BIN/psql' -h 127.0.0.1 -p $PORT -U postgres -d postgres -tAc \
    \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"" | grep -q 1 \
    || run "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres '$DB'"

echo "postgresql+asyncpg://postgres@127.0.0.1:$PORT/$DB"
