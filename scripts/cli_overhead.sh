#!/usr/bin/env bash
# The `tunewise` command's own time per trial, beyond starting the program: N trials of
# `/bin/true` (which exits at once) with SQLite and in-memory storage, minus the time bash takes
# to start `/bin/true` N times. Usage: bash scripts/cli_overhead.sh [N]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300}"
cargo build -q --release -p tunewise-cli
bin="${CARGO_TARGET_DIR:-target}/release/tunewise"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cat > "$dir/study.toml" <<'TOML'
[study]
name = "overhead"
seed = 1
[sampler]
kind = "random"
[params.x]
type = "float"
low = 0.0
high = 1.0
TOML
now() { date +%s.%N; }
t0=$(now); for _ in $(seq "$n"); do /bin/true; done; t1=$(now)
"$bin" run -c "$dir/study.toml" --storage "sqlite://$dir/bench.db" --trials "$n" -- /bin/true \
  >/dev/null 2>&1
t2=$(now)
"$bin" run -c "$dir/study.toml" --storage memory --trials "$n" -- /bin/true >/dev/null 2>&1
t3=$(now)
awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  spawn = (b - a) / n * 1000; sq = (c - b) / n * 1000; mem = (d - c) / n * 1000
  printf "start /bin/true from bash: %.2f ms\n", spawn
  printf "tunewise run, SQLite:      %.2f ms per trial (own time %.2f ms)\n", sq, sq - spawn
  printf "tunewise run, memory:      %.2f ms per trial (own time %.2f ms)\n", mem, mem - spawn
}'
