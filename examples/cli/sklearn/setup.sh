#!/bin/sh
# Makes .venv next to this file and installs requirements.txt into it (scikit-learn, pinned).
# Idempotent: does nothing when .venv already holds exactly these requirements.
#   sh examples/cli/sklearn/setup.sh        (from anywhere)
# PYTHON=python3.12 sh setup.sh picks another interpreter (default: python3).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
requirements="$here/requirements.txt"
# A copy of the requirements last installed: setup is skipped while it matches.
stamp="$venv/tunewise-requirements.txt"
python=${PYTHON:-python3}

say() { printf 'setup.sh: %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" \
    && "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
    say "$venv already has the packages of requirements.txt; nothing to do"
    exit 0
fi

command -v "$python" >/dev/null 2>&1 \
    || die "'$python' was not found; install Python 3 (3.11 has wheels for every pinned package) or set PYTHON=/path/to/python3"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
    say "creating $venv with $("$python" --version 2>&1)"
    # --clear: a half-made .venv (an earlier failed attempt) is made again from scratch.
    "$python" -m venv --clear "$venv" \
        || die "'$python -m venv' failed; install the venv module (Debian/Ubuntu: apt-get install python3-venv) and run setup.sh again"
fi

say "installing requirements.txt into $venv (pip's cache makes later runs quick)"
"$venv/bin/python" -m pip install --disable-pip-version-check -r "$requirements" \
    || die "pip could not install requirements.txt (see pip's message above); PyPI must be reachable, and the pinned versions need wheels for $("$venv/bin/python" --version 2>&1)"
"$venv/bin/python" -c 'import sklearn' \
    || die "scikit-learn was installed but does not import (see the error above)"
cp "$requirements" "$stamp"
say "ready: $("$venv/bin/python" -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
