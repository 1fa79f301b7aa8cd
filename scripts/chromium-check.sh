#!/usr/bin/env bash
# Check that Debian's headless Chromium can render a page, as the browser tests need it.
# Usage: scripts/chromium-check.sh [path-to-chromium]   (default /usr/bin/chromium)
set -euo pipefail

chromium=${1:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "chromium-check: $chromium not found (Debian: apt-get install chromium)" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

dom=$("$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --dump-dom \
  'data:text/html,<p id="probe">chromium-ok</p>' 2>/dev/null || true)

if [[ "$dom" != *chromium-ok* ]]; then
  echo "chromium-check: $chromium did not render a page in headless mode" >&2
  exit 1
fi
echo "chromium-check: ok ($("$chromium" --version 2>/dev/null | head -n 1))"
