#!/usr/bin/env bash
# The project's test command (the README's): formatting, lints, every test, and the examples
# built and run small. It installs nothing by hand: cargo fetches what the workspace needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests that need PostgreSQL read its URL from here; without it they say they were skipped.
export TUNEWISE_TEST_POSTGRES_URL="${TUNEWISE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features -q
echo "== cargo test"
cargo test --workspace --all-features
echo "== examples"
cargo build --workspace --examples
# The main job, on a fresh SQLite file, twice: the second run resumes the same studies.
db_dir="$(mktemp -d)"
trap 'rm -rf "$db_dir"' EXIT
cargo run -q -p tunewise --example quickstart -- "sqlite://$db_dir/quickstart.db"
cargo run -q -p tunewise --example quickstart -- "sqlite://$db_dir/quickstart.db"
