#!/usr/bin/env bash
# Installs what the dashboard's browser tests need: Debian's `chromium` (headless; playwright
# downloads no browser of its own) and, in tests/browser/, the pinned playwright-core from
# package-lock.json (`npm ci`). Idempotent: quick and silent-ish when both are there already.
#   bash scripts/browser_setup.sh            (from anywhere; needs root for apt-get, Node.js 20+)
# CHROMIUM=/path/to/chromium uses another Chromium and installs none.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$here/tests/browser"
chromium="${CHROMIUM:-/usr/bin/chromium}"
# A copy of the package-lock.json last installed: `npm ci` is skipped while it matches.
stamp="$dir/node_modules/.tunewise-package-lock.json"

say() { printf 'browser_setup.sh: %s\n' "$*"; }
die() { printf 'browser_setup.sh: error: %s\n' "$*" >&2; exit 1; }

if [ -x "$chromium" ]; then
    say "chromium: $chromium is there"
elif [ -n "${CHROMIUM:-}" ]; then
    die "CHROMIUM=$CHROMIUM is not an executable; unset CHROMIUM to install Debian's chromium"
else
    command -v apt-get >/dev/null 2>&1 \
        || die "$chromium is missing and apt-get was not found; install Chromium yourself and set CHROMIUM=/path/to/chromium"
    [ "$(id -u)" = 0 ] \
        || die "$chromium is missing and installing it needs root: run 'sudo apt-get install -y chromium' (or this script as root)"
    say "installing Debian's chromium (apt-get install -y chromium)"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine may have no package lists yet: update only when the install cannot find it.
    if ! apt-get install -y -q chromium; then
        say "apt-get install failed; running apt-get update and trying again"
        apt-get update -q || die "apt-get update failed (see its message above); Debian's package mirrors must be reachable"
        apt-get install -y -q chromium || die "apt-get install -y chromium failed (see its message above)"
    fi
    [ -x "$chromium" ] || die "the chromium package is installed but $chromium does not exist; set CHROMIUM=/path/to/chromium"
fi

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    || die "node and npm were not found; install Node.js 20 or later (the tests use its built-in test runner)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old; the browser tests need Node.js 20 or later"

if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp" && [ -f "$dir/node_modules/playwright-core/package.json" ]; then
    say "tests/browser/node_modules has package-lock.json's packages; nothing to do"
else
    say "npm ci in tests/browser (playwright-core, pinned in package-lock.json)"
    (cd "$dir" && npm ci --no-audit --no-fund) \
        || die "npm ci failed in $dir (see npm's message above); the npm registry must be reachable"
    cp "$dir/package-lock.json" "$stamp"
fi
say "ready: $("$chromium" --version 2>/dev/null | head -n 1), playwright-core $(node -p "require('$dir/node_modules/playwright-core/package.json').version")"
