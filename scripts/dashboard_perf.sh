#!/usr/bin/env bash
# The dashboard with a large SQLite study (issue 9): first page ready, server memory, and a
# running study on the same file never blocked. docs/benchmarks.md, "Dashboard (50,000-trial
# study)", describes the method and the figures.
#
#   bash scripts/dashboard_perf.sh [TRIALS]          (default 50000)
#
# Environment: SEED (1) of the generated study; RUN_TRIALS (600) and JOBS (2) of each
# `tunewise run` in part c; HAMMERS (2) concurrent request loops in part c; LOADS (4) browser
# loads of the page (the first is cold); CHROMIUM as for the browser tests. Needs curl, jq and
# python3; the browser measurement also needs node and tests/browser/node_modules
# (scripts/browser_setup.sh), and is skipped with a note without them.
#
# The study is generated once (crates/tunewise-dashboard/examples/perf_study.rs) and kept in
# $CARGO_TARGET_DIR/dashboard-perf/ (default target/); every run works on a copy of it. Exits
# non-zero when a target is missed: first page ready (browser, cold) under 2 s, peak RSS under
# 300 MiB, and in part c no failed trial, no failed request and no "database is locked".
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
trials="${1:-50000}"
seed="${SEED:-1}"
run_trials="${RUN_TRIALS:-600}"
jobs="${JOBS:-2}"
hammers="${HAMMERS:-2}"
loads="${LOADS:-4}"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
ready_target_ms=2000
rss_target_mib=300

say() { printf '\n== %s\n' "$*"; }
die() { printf 'dashboard_perf.sh: error: %s\n' "$*" >&2; exit 2; }
for tool in curl jq python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed; install it"
done
[[ "$trials" =~ ^[1-9][0-9]*$ ]] || die "TRIALS '$trials': give a positive whole number"
[[ "$run_trials" =~ ^[1-9][0-9]*$ ]] || die "RUN_TRIALS '$run_trials': give a positive whole number"

say "build (release)"
nice cargo build -q --release -p tunewise-cli
nice cargo build -q --release -p tunewise-dashboard --example perf_study
bin="$target/release/tunewise"

cache="$target/dashboard-perf"
mkdir -p "$cache"
study_file="$cache/study-$trials-seed$seed.db"
if [ -f "$study_file" ]; then
    say "study: reusing $study_file"
else
    say "study: generating $trials trials (seed $seed)"
    "$target/release/examples/perf_study" --out "$study_file" --trials "$trials" --seed "$seed"
fi

work="$(mktemp -d "$cache/run.XXXXXX")"
pids=()
cleanup() {
    touch "$work/stop" 2>/dev/null || true
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
db="$work/study.db"
cp "$study_file" "$db"
storage="sqlite://$db"
failures=()
miss() { failures+=("$*"); }

# Starts `tunewise dashboard` on the copy; sets dash_pid and url (the base URL, ending in /).
start_dashboard() {
    "$bin" dashboard --storage "$storage" --port 0 >"$work/dash.out" 2>>"$work/dash.err" &
    dash_pid=$!
    pids+=("$dash_pid")
    url=""
    for _ in $(seq 400); do
        url="$(grep -o 'http://[^ ]*/' "$work/dash.out" 2>/dev/null | head -n 1 || true)"
        [ -n "$url" ] && return 0
        kill -0 "$dash_pid" 2>/dev/null || die "tunewise dashboard exited: $(cat "$work/dash.err")"
        sleep 0.05
    done
    die "tunewise dashboard printed no ready line in 20 s"
}
stop_dashboard() {
    kill -TERM "$dash_pid" 2>/dev/null || true
    wait "$dash_pid" 2>/dev/null || true
}
peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$dash_pid/status"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$dash_pid/status"; }
# GET each path (relative to $url); prints "status seconds bytes path" per path.
get() {
    for path in "$@"; do
        curl -s -o /dev/null -w "%{http_code} %{time_total} %{size_download} $path\n" "$url$path"
    done
}
# The median of numbers on standard input.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

study="large"
api="api/studies/$study"

# ---------------------------------------------------------------- a. first page, in the browser
say "a. first page in headless Chromium ($loads loads, the first cold)"
first_paths=("study/$study" "assets/app.css" "assets/app.js" "$api"
    "$api/trials?sort=number&order=asc&offset=0&limit=50" "$api/figures/history?format=svg&objective=0")
browser_cold=""
browser_peak_mib=0
if command -v node >/dev/null 2>&1 && [ -d tests/browser/node_modules/playwright-core ]; then
    start_dashboard
    if node tests/browser/perf_first_page.mjs "${url}study/$study" "$loads" >"$work/browser.json" \
        2>"$work/browser.err"; then
        jq -r '.loads | to_entries[] | "load \(.key + 1): ready with the history plot \(.value.ready_ms) ms, every figure drawn \(.value.all_figures_ms) ms"' "$work/browser.json"
        echo "requests of the cold load (status, start after the navigation's, time to its end):"
        jq -r '.loads[0].requests[] | "  \(.status) at \(.start_ms) ms, \(.ms) ms \(.url)"' "$work/browser.json" \
            | sed "s#$url##"
        browser_cold="$(jq '.loads[0].ready_ms' "$work/browser.json")"
        browser_warm="$(jq '[.loads[1:][].ready_ms] | sort | .[length / 2 | floor] // empty' "$work/browser.json")"
        browser_all_cold="$(jq '.loads[0].all_figures_ms' "$work/browser.json")"
        browser_all_warm="$(jq '[.loads[1:][].all_figures_ms] | sort | .[length / 2 | floor] // empty' "$work/browser.json")"
        # The page's own requests before it was ready, for the server-side measurement below.
        mapfile -t first_paths < <(jq -r '.loads[0].requests[].url' "$work/browser.json" | sed "s#^$url##")
        if awk -v v="$browser_cold" -v t="$ready_target_ms" 'BEGIN { exit !(v >= t) }'; then
            miss "first page ready in the browser (cold): $browser_cold ms, target under $ready_target_ms ms"
        fi
    else
        cat "$work/browser.err" >&2
        miss "the browser measurement failed (above)"
    fi
    browser_peak_mib=$(( $(peak_rss_kib) / 1024 ))
    echo "peak RSS after the browser loads: $browser_peak_mib MiB"
    stop_dashboard
else
    echo "skipped: node or tests/browser/node_modules missing (run scripts/browser_setup.sh)"
fi

# ------------------------------------------------------------- a. first page, server side (curl)
say "a. first page, server side: the page's requests in order with curl, cold then warm"
start_dashboard
echo "cold (first requests after the start):"
get "${first_paths[@]}" | tee "$work/cold.txt" | sed 's/^/  /'
cold_total="$(awk '{ s += $2 } END { printf "%.3f", s }' "$work/cold.txt")"
echo "  total, one after the other: $cold_total s"
for i in 1 2 3 4 5; do get "${first_paths[@]}" >"$work/warm$i.txt"; done
echo "warm (median of 5 rounds):"
for path in "${first_paths[@]}"; do
    m="$(cat "$work"/warm*.txt | awk -v p="$path" '$4 == p { print $2 }' | median)"
    echo "  $m $path"
done
warm_total="$(for i in 1 2 3 4 5; do awk '{ s += $2 } END { print s }' "$work/warm$i.txt"; done | median)"
echo "  total, one after the other: $warm_total s"
if [ -z "$browser_cold" ] && awk -v v="$cold_total" -v t="$ready_target_ms" 'BEGIN { exit !(v * 1000 >= t) }'; then
    miss "first page's requests (cold, no browser): $cold_total s, target under $ready_target_ms ms"
fi

# ------------------------------------------------------------------------------ b. memory
say "b. server memory: table sorted and filtered, CSV export, every figure kind"
kinds="$(curl -s "$url$api" | jq -r '.figures[]')"
params="$(curl -s "$url$api" | jq -r '.columns[] | select(.kind == "param") | .key')"
paths=()
for key in number state value $params; do
    for order in asc desc; do
        paths+=("$api/trials?sort=$key&order=$order&offset=0&limit=50")
    done
done
paths+=("$api/trials?sort=value&order=asc&offset=$((trials - 50))&limit=50"
    "$api/trials?state=pruned&sort=number&order=desc&offset=0&limit=50"
    "$api/trials?state=failed&offset=0&limit=50"
    "$api/trials?filter=value%20%3C%200.5%20and%20lr%20%3E%200.001&sort=value&order=asc&offset=0&limit=50"
    "$api/trials?filter=optimizer%20%3D%20adam%2C%20layers%20%3E%3D%204&sort=lr&order=desc&offset=0&limit=50"
    "$api/trials.csv"
    "$api/trials.csv?filter=value%20%3C%200.5&sort=value&order=asc")
for kind in $kinds; do
    paths+=("$api/figures/$kind?objective=0" "$api/figures/$kind?format=svg&objective=0")
done
# The slice and contour of other parameters, and the timeline by worker.
for p in $params; do paths+=("$api/figures/slice?format=svg&objective=0&param=$p"); done
paths+=("$api/figures/contour?format=svg&objective=0&x=lr&y=units"
    "$api/figures/timeline?format=svg&by_worker=true")
get "${paths[@]}" >"$work/memory.txt"
bad="$(awk '$1 !~ /^2/' "$work/memory.txt")"
[ -z "$bad" ] || miss "requests of part b failed: $bad"
echo "slowest requests (status, seconds, bytes, path):"
sort -k2 -g -r "$work/memory.txt" | head -n 8 | sed 's/^/  /'
echo "largest answers:"
sort -k3 -g -r "$work/memory.txt" | head -n 5 | sed 's/^/  /'
peak_mib=$(( $(peak_rss_kib) / 1024 ))
echo "RSS now: $(( $(rss_kib) / 1024 )) MiB; peak RSS (VmHWM) since the start: $peak_mib MiB"
# The larger of this server's peak and the browser's server's.
[ "$browser_peak_mib" -le "$peak_mib" ] || peak_mib="$browser_peak_mib"
[ "$peak_mib" -lt "$rss_target_mib" ] || miss "peak RSS $peak_mib MiB, target under $rss_target_mib MiB"

# ------------------------------------------------------------------- c. never blocked
say "c. a study running on the same file: $run_trials trials, -j $jobs, without and with load"
cat >"$work/live.toml" <<'TOML'
[sampler]
kind = "random"
[params.x]
type = "float"
low = 0.0
high = 1.0
TOML
# Creates study $1 with one trial of `echo {x}` (in storage $2, default the shared file).
create_study() {
    "$bin" run -c "$work/live.toml" --storage "${2:-$storage}" --study "$1" -n 1 --progress none \
        -- echo '{x}' >/dev/null 2>>"$work/run-$1.err"
}
# Runs RUN_TRIALS more trials into study $1 (in storage $2, default the shared file); prints
# the seconds they took.
timed_run() {
    local t0 t1
    t0="$(date +%s.%N)"
    "$bin" run -c "$work/live.toml" --storage "${2:-$storage}" --study "$1" -n "$run_trials" -j "$jobs" \
        --progress plain -- echo '{x}' >"$work/run-$1.out" 2>>"$work/run-$1.err" \
        || echo "tunewise run exited with status $?" >>"$work/run-$1.err"
    t1="$(date +%s.%N)"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
# Fetches the big study's page requests, its CSV and figures, and the live study's, in a loop
# until $work/stop exists; one line per request in $work/hammer-$1.log, failures' bodies in
# $work/hammer-$1.err.
hammer() {
    local live="api/studies/$2" list=() i
    list=("$api" "$api/trials?sort=value&order=asc&offset=0&limit=50"
        "$api/trials?filter=lr%20%3E%200.001&sort=lr&order=desc&offset=100&limit=50"
        "$api/trials.csv" "$api/figures/history?format=svg&objective=0"
        "$api/figures/timeline?format=svg" "$live" "$live/trials?sort=number&order=desc&limit=50"
        "$live/figures/history?format=svg" "$live/changes?cursor=0" "api/studies")
    local args=()
    for i in "${!list[@]}"; do args+=(-o "$work/h$1-$i" "$url${list[$i]}"); done
    while [ ! -e "$work/stop" ]; do
        curl -s -w '%{http_code} %{time_total} %{url_effective}\n' "${args[@]}" >"$work/h$1.now" || true
        cat "$work/h$1.now" >>"$work/hammer-$1.log"
        i=0
        while read -r code _ u; do
            if [[ "$code" != 2* ]]; then
                { echo "$code $u"; head -c 400 "$work/h$1-$i" 2>/dev/null; echo; } >>"$work/hammer-$1.err"
            fi
            i=$((i + 1))
        done <"$work/h$1.now"
    done
}
create_study idle
idle_s="$(timed_run idle)"
echo "without load (the dashboard running, idle): $run_trials trials in $idle_s s"
# The live study exists before the load starts, so every request can succeed.
create_study loaded
rm -f "$work/stop"
hammer_pids=()
for h in $(seq "$hammers"); do
    hammer "$h" loaded &
    hammer_pids+=("$!")
    pids+=("$!")
done
sleep 1
loaded_s="$(timed_run loaded)"
# The control: the same load on the machine, the study in a file the dashboard does not read.
# What the shared file costs is the difference between this run and the one above.
other="sqlite://$work/other.db"
create_study control "$other"
control_s="$(timed_run control "$other")"
touch "$work/stop"
for pid in "${hammer_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
echo "with load ($hammers request loops): $run_trials trials in $loaded_s s"
echo "control, the same load but the study in another file: $run_trials trials in $control_s s"

cat "$work"/hammer-*.log >"$work/hammer.log"
requests="$(wc -l <"$work/hammer.log")"
failed_requests="$(awk '$1 !~ /^2/' "$work/hammer.log" | wc -l)"
echo "dashboard under load: $requests requests, $failed_requests not 2xx; time per request by path (median / max, s):"
python3 - "$work/hammer.log" "$url" <<'PY'
import collections, statistics, sys
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    code, t, u = line.split()
    by[u.replace(sys.argv[2], "")].append(float(t))
for u, ts in sorted(by.items()):
    print(f"  {statistics.median(ts):.4f} / {max(ts):.4f}  ({len(ts)}) {u}")
PY

# Trial counts and latencies from the storage itself.
for name in idle loaded; do
    "$bin" trials --storage "$storage" --study "$name" --format json >"$work/trials-$name.json"
done
"$bin" trials --storage "$other" --study control --format json >"$work/trials-control.json"
python3 - "$work/trials-idle.json" "$work/trials-loaded.json" "$work/trials-control.json" \
    "$run_trials" "$idle_s" "$loaded_s" "$control_s" >"$work/latency.txt" <<'PY'
import json, sys
from datetime import datetime
n = int(sys.argv[4])
want = n + 1
runs = (("without load", sys.argv[1], sys.argv[5]), ("with load", sys.argv[2], sys.argv[6]),
        ("control (load, another file)", sys.argv[3], sys.argv[7]))
for label, path, secs in runs:
    trials = json.load(open(path))["trials"]
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    # Trial 0 was created before the timed run (and before the load started): left out.
    timed = [t for t in trials if t["number"] > 0]
    done = sorted(datetime.fromisoformat(t["datetime_complete"]) for t in timed if t.get("datetime_complete"))
    gaps = [(b - a).total_seconds() * 1000 for a, b in zip(done, done[1:])]
    durations = [t["duration_s"] * 1000 for t in timed if t.get("duration_s") is not None]
    rate = n / float(secs)
    ok = states.get("complete", 0) == want and len(trials) == want
    print(f"{label}: {rate:.1f} trials/s; states {states}; longest trial (start to finish) "
          f"{max(durations):.1f} ms; longest gap between two finishes {max(gaps):.1f} ms; "
          f"{'OK' if ok else 'FAILED: expected %d complete trials' % want}")
PY
cat "$work/latency.txt"
grep -q FAILED "$work/latency.txt" && miss "part c: not every trial completed (above)"
[ "$failed_requests" -eq 0 ] || miss "part c: $failed_requests dashboard requests failed: $(head -c 2000 "$work"/hammer-*.err)"
locked="$(grep -il 'database is locked' "$work"/*.err "$work"/*.out "$work"/h*-* 2>/dev/null || true)"
if [ -n "$locked" ]; then
    miss "part c: 'database is locked' in: $locked"
else
    echo "no 'database is locked' in the runs' output, the dashboard's output or its answers"
fi
if grep -v -E '^(trial [0-9]+: complete|study .* trial\(s\) so far)' "$work"/run-*.err | grep -q .; then
    echo "standard error of the runs, beyond the line per trial:"
    grep -h -v -E '^(trial [0-9]+: complete|study .* trial\(s\) so far)' "$work"/run-*.err | head -n 20
fi
stop_dashboard

say "summary ($trials trials, seed $seed; $(uptime | sed 's/.*load average/load average/'))"
if [ -n "$browser_cold" ]; then
    echo "first page ready in Chromium with its history plot: cold $browser_cold ms, warm ${browser_warm:-?} ms (target < $ready_target_ms ms)"
    echo "every figure drawn: cold $browser_all_cold ms, warm ${browser_all_warm:-?} ms"
fi
echo "first page's requests with curl: cold $cold_total s, warm $warm_total s"
echo "peak RSS: $peak_mib MiB, the larger of the two servers' (target < $rss_target_mib MiB)"
echo "running study ($run_trials trials): $idle_s s without load, $loaded_s s with load on the shared file, $control_s s with load on another file; the dashboard answered $requests requests meanwhile"
if [ "${#failures[@]}" -gt 0 ]; then
    printf 'MISSED: %s\n' "${failures[@]}"
    exit 1
fi
echo "every target met"
