#!/usr/bin/env bash
# Installs what the console's browser tests need, small and project-local:
#   - Debian's chromium (apt-get, as root; skipped when a chromium is already on PATH),
#   - playwright-core from npm into tests/browser/node_modules (git-ignored; no browser
#     download: playwright-core drives the system chromium).
# Called by scripts/test.sh; safe to run again (does nothing when all is present).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROWSER_DIR="$ROOT/tests/browser"

die() { printf '\nbrowser-deps.sh: error: %s\n' "$*" >&2; exit 1; }

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing chromium with apt-get"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
            || die "apt-get install chromium failed"
    else
        die "chromium not found: install Debian's chromium (apt-get install chromium)"
    fi
fi

command -v npm >/dev/null || die "npm not found: install node (>= 18) and npm"
if [ ! -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ]; then
    echo "installing playwright-core into $BROWSER_DIR/node_modules"
    (cd "$BROWSER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent) \
        || die "npm ci in tests/browser failed"
fi
echo "chromium: $(chromium --version 2>/dev/null || echo '?'), playwright-core $(node -p "require('$BROWSER_DIR/node_modules/playwright-core/package.json').version")"
