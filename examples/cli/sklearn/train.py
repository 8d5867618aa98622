"""A scikit-learn training script for `tunewise run` (run setup.sh first: it makes .venv).

It picks a model for the breast cancer data set that ships with scikit-learn (569 tumours, 30
features, no download): gradient-boosted trees (HistGradientBoostingClassifier) or an RBF support
vector machine on standardised features, scores it by stratified 5-fold cross-validation and
prints one JSON line:

    {"accuracy": 0.9772, "accuracy_std": 0.0121, "fit_time": 0.84, "model": "svc", ...}

tunewise reads "accuracy" (study.toml: score = "json:accuracy").

Parameters, later sources replacing earlier ones:
1. defaults (scikit-learn's own);
2. the JSON file named by TUNEWISE_PARAMS_FILE (tunewise writes every parameter of the trial
   there, including the conditional ones that only apply to one model);
3. the command line (`--model`, `--class-weight`, …; study.toml passes the two that every trial
   has as `{placeholders}`). By hand:
       .venv/bin/python train.py --model svc --C 10 --gamma 0.003

A bad parameter (unknown name, wrong type, out of range, or one that belongs to the other model)
ends the script with status 2 and a message on stderr, so that tunewise records the trial as
failed with that message.
"""

import argparse
import json
import math
import os
import sys
import time

# tunewise runs -j trials at once, each in its own process: one thread per trial by default
# keeps the cores from being oversubscribed. Set OMP_NUM_THREADS to change it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

MODELS = ("hgb", "svc")

# name -> (type, the model it applies to, check, what the check requires)
PARAMS = {
    "model": (str, None, lambda v: v in MODELS, "one of " + ", ".join(MODELS)),
    "class_weight": (str, None, lambda v: v in ("none", "balanced"), "'none' or 'balanced'"),
    "learning_rate": (float, "hgb", lambda v: 0 < v <= 10, "in (0, 10]"),
    "max_iter": (int, "hgb", lambda v: v >= 1, ">= 1"),
    "max_leaf_nodes": (int, "hgb", lambda v: v >= 2, ">= 2"),
    "min_samples_leaf": (int, "hgb", lambda v: v >= 1, ">= 1"),
    "l2_regularization": (float, "hgb", lambda v: v >= 0, ">= 0"),
    "C": (float, "svc", lambda v: v > 0, "> 0"),
    "gamma": (float, "svc", lambda v: v > 0, "> 0"),
}


class BadParameter(Exception):
    pass


def convert(name, value):
    kind, _, check, requirement = PARAMS[name]
    try:
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or (kind is str and not isinstance(value, str)):
            raise ValueError
        value = kind(value)
    except (TypeError, ValueError):
        raise BadParameter(f"{name} = {value!r} is not {'an' if kind is int else 'a'} {kind.__name__}")
    if (isinstance(value, float) and not math.isfinite(value)) or not check(value):
        raise BadParameter(f"{name} = {value!r} must be {requirement}")
    return value


def read_params(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, (kind, model, _, requirement) in PARAMS.items():
        where = f" ({model} only)" if model else ""
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            metavar=kind.__name__.upper(),
            help=f"{requirement}{where}",
        )
    args = parser.parse_args(argv)

    raw = {}
    params_file = os.environ.get("TUNEWISE_PARAMS_FILE")
    if params_file:
        try:
            with open(params_file) as f:
                raw.update(json.load(f))
        except (OSError, ValueError) as e:
            raise BadParameter(f"cannot read TUNEWISE_PARAMS_FILE '{params_file}': {e}")
        unknown = sorted(set(raw) - set(PARAMS))
        if unknown:
            raise BadParameter(
                f"unknown parameter(s) {', '.join(unknown)} in TUNEWISE_PARAMS_FILE; train.py "
                f"knows {', '.join(PARAMS)} (remove the others from study.toml)"
            )
    raw.update({k: v for k, v in vars(args).items() if v is not None})

    params = {name: convert(name, value) for name, value in raw.items()}
    params.setdefault("model", "hgb")
    params.setdefault("class_weight", "none")
    for name in params:
        model = PARAMS[name][1]
        if model is not None and model != params["model"]:
            raise BadParameter(
                f"{name} applies to model {model} only, and this trial's model is "
                f"{params['model']} (in study.toml: when = {{ model = \"{model}\" }})"
            )
    return params


def make_model(params):
    # Imported here so that `--help` and bad parameters answer without loading scikit-learn.
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    class_weight = None if params["class_weight"] == "none" else params["class_weight"]
    own = {k: v for k, v in params.items() if PARAMS[k][1] == params["model"]}
    if params["model"] == "hgb":
        # Trees need no scaling; early stopping off so that max_iter is what is tuned.
        return HistGradientBoostingClassifier(
            class_weight=class_weight, early_stopping=False, random_state=0, **own
        )
    return make_pipeline(StandardScaler(), SVC(kernel="rbf", class_weight=class_weight, **own))


def main():
    try:
        params = read_params(sys.argv[1:])
    except BadParameter as e:
        print(f"train.py: bad parameter: {e}", file=sys.stderr)
        return 2

    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import StratifiedKFold, cross_validate

    x, y = load_breast_cancer(return_X_y=True)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    started = time.perf_counter()
    try:
        scores = cross_validate(
            make_model(params), x, y, cv=folds, scoring="accuracy", error_score="raise"
        )
    except ValueError as e:
        # scikit-learn's own check of a value that passed ours.
        print(f"train.py: bad parameter: {e}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    accuracy = scores["test_score"]
    print(
        json.dumps(
            {
                "accuracy": round(float(accuracy.mean()), 6),
                "accuracy_std": round(float(accuracy.std()), 6),
                "fit_time": round(float(scores["fit_time"].sum()), 4),
                "cv_time": round(elapsed, 4),
                **params,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
