#!/usr/bin/env bash
# The project's test command (the README's): formatting, lints, every test, the dashboard's
# browser tests, and the examples built and run small. It installs nothing by hand: cargo fetches
# what the workspace needs, examples/cli/sklearn/setup.sh installs that example's pinned
# scikit-learn (from PyPI) into its own .venv, and scripts/browser_setup.sh installs Debian's
# chromium and the pinned playwright-core (npm) for the browser tests.
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
# Before the tests: the CLI's tests run the scikit-learn example when its .venv exists. The
# project promises that setup works on a fresh machine, so a failure here (PyPI unreachable, no
# venv module) fails the run; it is never skipped.
echo "== examples/cli/sklearn/setup.sh"
sh examples/cli/sklearn/setup.sh || {
    echo "error: examples/cli/sklearn/setup.sh failed (its message is above)" >&2
    exit 1
}
echo "== cargo test"
cargo test --workspace --all-features
# The dashboard in a real browser: headless Chromium (Debian's `chromium`, which
# scripts/browser_setup.sh installs when it is missing) driven by playwright-core (pinned in
# tests/browser/package-lock.json, installed by `npm ci`). A failed setup fails the run.
echo "== browser tests"
bash scripts/browser_tests.sh
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
# The scikit-learn example through the tunewise binary, small (4 trials, 2 at a time) and on a
# fresh SQLite file instead of the example's own.
(cd examples/cli/sklearn && cargo run -q -p tunewise-cli -- run --config study.toml -j 2 \
    --trials 4 --storage "sqlite://$db_dir/sklearn.db") 2>&1 | tee "$db_dir/sklearn.txt"
grep -q "^4 trial(s) run; stopped because the trial budget was used" "$db_dir/sklearn.txt" \
    && [ "$(grep -c ': complete ' "$db_dir/sklearn.txt")" = 4 ] \
    && grep -q "^best: trial" "$db_dir/sklearn.txt" \
    || { echo "the scikit-learn example did not complete its 4 trials"; exit 1; }
