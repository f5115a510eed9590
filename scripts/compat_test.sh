#!/usr/bin/env bash
# CI step: the core, command-line and napari tests on a newer Python than .venv's, with the newest
# numpy / pandas / scipy / movement pip gives there (users' new environments get those).
# Builds .venv-new with that Python. Skipped, with a message, when no newer Python is found.
#   bash scripts/compat_test.sh [pytest options]
# Environment: GAITINT_NEW_PYTHON (the interpreter; default: python3.13, else pyenv's 3.13),
# GAITINT_NEW_VENV (default .venv-new).
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
py="${GAITINT_NEW_PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13; do
    if "$cand" -c "import sys; assert sys.version_info >= (3, 13)" >/dev/null 2>&1; then py="$cand"; break; fi
  done
fi
if [ -z "$py" ]; then
  echo "compat_test.sh: skipped: no Python 3.13 on this machine (set GAITINT_NEW_PYTHON)"
  exit 0
fi
venv="${GAITINT_NEW_VENV:-.venv-new}"
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv" || exit 1
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$venv/bin/python" -m pip install -q -e ".[testing]" || exit 1
echo "compat_test.sh: $("$venv/bin/python" -c 'import sys, numpy, pandas, scipy; print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, pandas {pandas.__version__}, scipy {scipy.__version__}")'), ready in $(( $(date +%s) - t0 )) s"
"$venv/bin/python" -m pytest -q tests/core tests/cli tests/napari "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "compat_test.sh: pytest collected no tests" >&2; rc=1; fi
echo "compat_test.sh: done in $(( $(date +%s) - t0 )) s (exit $rc)"
exit "$rc"
