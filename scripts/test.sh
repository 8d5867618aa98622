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
# The quick-start example, on a fresh SQLite file, twice: the second run resumes its studies.
db_dir="$(mktemp -d)"
trap 'rm -rf "$db_dir"' EXIT
cargo run -q -p tunewise --example quickstart -- "sqlite://$db_dir/quickstart.db"
cargo run -q -p tunewise --example quickstart -- "sqlite://$db_dir/quickstart.db"
# The main job (an SVM on breast cancer, tune → refit → test) with a small budget, twice on one
# SQLite file: the second run resumes the study. Then the other tunewise-ml examples, small.
cargo run -q -p tunewise-ml --example svm_breast_cancer -- 3 "sqlite://$db_dir/svm.db"
cargo run -q -p tunewise-ml --example svm_breast_cancer -- 3 "sqlite://$db_dir/svm.db" | tee "$db_dir/svm.txt"
grep -q "^Tuned 6 trials" "$db_dir/svm.txt" || { echo "the second run did not resume the study"; exit 1; }
cargo run -q -p tunewise-ml --example random_forest_digits -- 2
cargo run -q -p tunewise-ml --example ridge_gradient_diabetes -- "sqlite://$db_dir/ridge.db"
cargo run -q -p tunewise-ml --example precision_recall -- 6
cargo run -q -p tunewise-ml --example threshold_tuning -- 3
