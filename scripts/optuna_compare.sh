#!/usr/bin/env bash
# Samplers against Optuna, side by side: one command.
#
#   bash scripts/optuna_compare.sh                    # 100 trials x 10 seeds, every function
#   BUDGET=30 SEEDS=3 bash scripts/optuna_compare.sh  # a quick look
#   FUNCTIONS=branin,hartmann6 SAMPLERS_OPTUNA=tpe bash scripts/optuna_compare.sh
#   REUSE_OPTUNA=1 bash scripts/optuna_compare.sh    # rerun tunewise only, keep Optuna's runs
#
# 1. Creates a Python virtual environment in target/optuna-venv and installs the pinned Optuna
#    (once; delete the directory to reinstall).
# 2. Checks that scripts/optuna_functions.py defines the same functions as tunewise-bench: Optuna
#    evaluates 20 random points per function, the harness evaluates its own functions there, and
#    any difference stops the script.
# 3. Runs Optuna's samplers (scripts/optuna_compare.py) and tunewise's (the tunewise-bench
#    binary) on the same functions, budgets and seeds, each writing one JSON line per run; the
#    Optuna lines are scored by the harness (`tunewise-bench score`) so both are scored alike.
# 4. Writes the markdown table of both to target/optuna-compare/report.md.
#
# Not part of CI: at full scale it takes about ten minutes on 2 cores, mostly Optuna's TPE.
set -euo pipefail

OPTUNA_VERSION=5.0.0
TORCH_VERSION=${TORCH_VERSION:-2.15.0}
CMAES_VERSION=${CMAES_VERSION:-0.13.1}
BUDGET=${BUDGET:-100}
SEEDS=${SEEDS:-10}
JOBS=${JOBS:-2}
FUNCTIONS=${FUNCTIONS:-}
SAMPLERS_TUNEWISE=${SAMPLERS_TUNEWISE:-}
SAMPLERS_OPTUNA=${SAMPLERS_OPTUNA:-}

cd "$(dirname "$0")/.."
# One thread per process for PyTorch (Optuna's GP): the runs already use one process per core.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
VENV=target/optuna-venv
OUT=target/optuna-compare
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c "import optuna, sys; sys.exit(optuna.__version__ != '$OPTUNA_VERSION')" 2>/dev/null; then
    echo "== creating $VENV with optuna $OPTUNA_VERSION" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "optuna==$OPTUNA_VERSION" scipy
fi
# Optuna's GP sampler needs PyTorch and its CMA-ES sampler the cmaes package; PyPI's torch wheel
# brings CUDA libraries (several GB), so it is installed only when those samplers are asked for.
if [ -z "$SAMPLERS_OPTUNA" ] || echo ",$SAMPLERS_OPTUNA," | grep -Eq ",(gp|cmaes|cmaes-sep),"; then
    if ! "$VENV/bin/python" -c "import torch, cmaes" 2>/dev/null; then
        echo "== installing torch $TORCH_VERSION and cmaes $CMAES_VERSION into $VENV" >&2
        "$VENV/bin/pip" install --quiet "torch==$TORCH_VERSION" "cmaes==$CMAES_VERSION"
    fi
fi

echo "== building tunewise-bench (release)" >&2
nice cargo build --release --quiet -p tunewise-bench --bin tunewise-bench
BENCH=target/release/tunewise-bench

echo "== checking that both sides define the same functions" >&2
"$VENV/bin/python" scripts/optuna_compare.py --dump-points --out "$OUT/points.jsonl"
"$BENCH" check "$OUT/points.jsonl"

if [ "${REUSE_OPTUNA:-0}" = 1 ] && [ -s "$OUT/optuna-raw.jsonl" ]; then
    echo "== optuna: reusing $OUT/optuna-raw.jsonl (REUSE_OPTUNA=1)" >&2
else
    echo "== optuna: $BUDGET trials x $SEEDS seeds" >&2
    nice "$VENV/bin/python" scripts/optuna_compare.py --budget "$BUDGET" --seeds "$SEEDS" \
        --jobs "$JOBS" --functions "$FUNCTIONS" --samplers "$SAMPLERS_OPTUNA" \
        --out "$OUT/optuna-raw.jsonl"
fi
"$BENCH" score "$OUT/optuna-raw.jsonl" --out "$OUT/optuna.jsonl"

echo "== tunewise: $BUDGET trials x $SEEDS seeds" >&2
tunewise_args=(run --budget "$BUDGET" --seeds "$SEEDS" --threads "$JOBS" --out "$OUT/tunewise.jsonl")
[ -n "$FUNCTIONS" ] && tunewise_args+=(--functions "$FUNCTIONS")
[ -n "$SAMPLERS_TUNEWISE" ] && tunewise_args+=(--samplers "$SAMPLERS_TUNEWISE")
nice "$BENCH" "${tunewise_args[@]}"

"$BENCH" report "$OUT/tunewise.jsonl" "$OUT/optuna.jsonl" --out "$OUT/report.md"
echo "== $OUT/report.md" >&2
cat "$OUT/report.md"
