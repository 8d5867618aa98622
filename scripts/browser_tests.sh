#!/usr/bin/env bash
# The dashboard's tests in a real browser: headless Chromium (Debian's) driven by playwright-core,
# with Node's built-in test runner, against the `tunewise` binary built here.
#   bash scripts/browser_tests.sh [TEST FILE…]      (default: every tests/browser/*.test.mjs)
# It runs scripts/browser_setup.sh first (installs chromium and playwright-core when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== browser tests: setup"
bash scripts/browser_setup.sh
echo "== browser tests: cargo build -p tunewise-cli"
cargo build -q -p tunewise-cli
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$(pwd)/$target" ;; esac
export TUNEWISE_BIN="$target/debug/tunewise"

if [ "$#" -gt 0 ]; then files=("$@"); else files=(tests/browser/*.test.mjs); fi
echo "== browser tests: node --test ${files[*]} (binary $TUNEWISE_BIN)"
# One file at a time: each starts its own dashboard and Chromium, and the machine may have 2 cores.
# A test still running after 2 minutes fails (a hang must not block the run).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec "${files[@]}" 2>&1 | tee "$log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "== browser tests FAILED; the failing tests (details above):" >&2
    # The spec reporter marks a failing test (and its file) with ✖.
    grep -E '✖' "$log" | sort -u >&2 || true
    exit "$status"
fi
echo "== browser tests passed"
