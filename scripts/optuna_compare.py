"""Runs Optuna's samplers on the tunewise-bench functions and writes one JSON line per run, in
the harness's format (framework "optuna").

Each run records the objective values of every trial (`trial_values`); `tunewise-bench score`
then fills the best-so-far curve and the final regret with the harness's own definitions, so both
frameworks are scored by one piece of code. The sampler's own time is measured the way the
harness measures it: a forwarding sampler adds up the time spent in the wrapped sampler's
methods.

    python scripts/optuna_compare.py --budget 100 --seeds 10 --jobs 2 --out optuna.jsonl

Usually run through scripts/optuna_compare.sh.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings

import optuna
from optuna.samplers import (
    BaseSampler,
    CmaEsSampler,
    GPSampler,
    NSGAIISampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optuna_functions  # noqa: E402

# One line per sampler: its name in the records (matching tunewise's names for the same
# algorithm) and how to build it from a seed.
SAMPLERS = {
    "random": lambda seed: RandomSampler(seed=seed),
    # Optuna's default TPE: multivariate for one objective, independent for several.
    "tpe": lambda seed: TPESampler(seed=seed),
    "tpe-univariate": lambda seed: TPESampler(seed=seed, multivariate=False),
    "tpe-multivariate": lambda seed: TPESampler(seed=seed, multivariate=True),
    "qmc-sobol": lambda seed: QMCSampler(qmc_type="sobol", scramble=True, seed=seed),
    "qmc-halton": lambda seed: QMCSampler(qmc_type="halton", scramble=True, seed=seed),
    # These three need extra packages (torch for the GP, cmaes for CMA-ES); the script
    # installs them. Optuna's CMA-ES samples categorical parameters at random, as ours does.
    "gp": lambda seed: GPSampler(seed=seed),
    "cmaes": lambda seed: CmaEsSampler(seed=seed),
    "cmaes-sep": lambda seed: CmaEsSampler(seed=seed, use_separable_cma=True),
    "nsga2": lambda seed: NSGAIISampler(seed=seed),
}


class TimedSampler(BaseSampler):
    """Forwards every call to another sampler and adds up the time spent in it."""

    def __init__(self, inner):
        self.inner = inner
        self.spent = 0.0

    def _timed(self, method, *args):
        start = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.spent += time.perf_counter() - start

    def infer_relative_search_space(self, study, trial):
        return self._timed(self.inner.infer_relative_search_space, study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._timed(self.inner.sample_relative, study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._timed(
            self.inner.sample_independent, study, trial, param_name, param_distribution
        )

    def before_trial(self, study, trial):
        return self._timed(self.inner.before_trial, study, trial)

    def after_trial(self, study, trial, state, values):
        return self._timed(self.inner.after_trial, study, trial, state, values)

    def reseed_rng(self):
        self.inner.reseed_rng()


def run_one(function, sampler, seed, budget):
    n_objectives, objective = optuna_functions.suite()[function]
    timed = TimedSampler(SAMPLERS[sampler](seed))
    study = optuna.create_study(directions=["minimize"] * n_objectives, sampler=timed)
    start = time.perf_counter()
    error = None
    try:
        study.optimize(objective, n_trials=budget)
    except Exception as e:  # a sampler that fails: record it, keep the other runs
        error = f"{type(e).__name__}: {e}"
    elapsed = time.perf_counter() - start
    trials = study.get_trials(deepcopy=False)
    values = [
        list(t.values) if t.state == optuna.trial.TrialState.COMPLETE else None for t in trials
    ]
    n = max(len(trials), 1)
    record = {
        "framework": "optuna",
        "sampler": sampler,
        "function": function,
        "seed": seed,
        "budget": budget,
        "best_curve": [],
        "final_regret": None,
        "sampler_ms_per_trial": timed.spent * 1e3 / n,
        "trial_ms": elapsed * 1e3 / n,
        "failed_trials": sum(v is None for v in values),
        "trial_values": values,
    }
    if error is not None:
        record["error"] = error
    return record


def run_pair(job):
    function, seed, samplers, budget = job
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    return [run_one(function, s, seed, budget) for s in samplers]


def dump_points(path, functions, n=20):
    """Writes n random points per function with Optuna's values there, for `tunewise-bench
    check`, which evaluates the Rust functions at the same parameters: a check that both sides
    define the same functions."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with open(path, "w") as out:
        for function in functions:
            m, objective = optuna_functions.suite()[function]
            study = optuna.create_study(
                directions=["minimize"] * m, sampler=RandomSampler(seed=123)
            )
            study.optimize(objective, n_trials=n)
            for t in study.trials:
                out.write(
                    json.dumps({"function": function, "params": t.params, "values": t.values})
                    + "\n"
                )


def names(arg, known, flag):
    if not arg:
        return list(known)
    wanted = [w.strip() for w in arg.split(",") if w.strip()]
    for w in wanted:
        if w not in known:
            sys.exit(f"error: unknown {flag[2:]} '{w}' ({flag}); known: {', '.join(known)}")
    return [k for k in known if k in wanted]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samplers", default="", help="comma-separated (default: all)")
    p.add_argument("--functions", default="", help="comma-separated (default: all)")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    p.add_argument("--budget", type=int, default=100, help="trials per run (default 100)")
    p.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    p.add_argument("--out", required=True)
    p.add_argument(
        "--dump-points",
        action="store_true",
        help="instead of benchmarking, write 20 random points per function with their values",
    )
    args = p.parse_args()
    samplers = names(args.samplers, SAMPLERS, "--samplers")
    functions = names(args.functions, optuna_functions.suite(), "--functions")
    if args.budget < 1 or args.seeds < 1 or args.jobs < 1:
        sys.exit("error: --budget, --seeds and --jobs must be at least 1")
    if args.dump_points:
        dump_points(args.out, functions)
        return
    # Seed by seed, so that a run cut short still covers every function.
    jobs = [(f, seed, samplers, args.budget) for seed in range(args.seeds) for f in functions]
    start = time.perf_counter()
    done = 0
    with open(args.out, "w") as out, multiprocessing.Pool(args.jobs) as pool:
        for records in pool.imap(run_pair, jobs):
            for r in records:
                out.write(json.dumps(r) + "\n")
            done += 1
            print(
                f"\r{done}/{len(jobs)} (function, seed) pairs, {time.perf_counter() - start:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
