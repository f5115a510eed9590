#!/usr/bin/env bash
# CI step: the package against the range of libraries it declares.
#  * newest: the core, command-line and napari tests on Python 3.13 with the newest numpy /
#    pandas / scipy / movement pip gives there (what users' new environments get), in
#    .venv-new; skipped, with a message, when no Python 3.13 is found;
#  * lowest: the core and command-line tests with every dependency at the lowest version
#    pyproject.toml allows (numpy 1.24.4, pandas 2.0, scipy 1.10, matplotlib 3.7...), on
#    .venv's Python, in .venv-lowest.
#   bash scripts/compat_test.sh [pytest options]
# Environment: GAITINT_NEW_PYTHON (default: python3.13, else pyenv's 3.13), GAITINT_NEW_VENV
# (default .venv-new), GAITINT_LOWEST_VENV (default .venv-lowest).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0

versions='import sys, numpy, pandas, scipy, matplotlib; print(f"Python {sys.version.split()[0]}, numpy {numpy.__version__}, pandas {pandas.__version__}, scipy {scipy.__version__}, matplotlib {matplotlib.__version__}")'

run() {  # run NAME VENV PYTEST-ARGS...: pytest in VENV, its exit code folded into rc
  local name="$1" venv="$2"; shift 2
  echo "compat_test.sh: $name: $("$venv/bin/python" -c "$versions")"
  "$venv/bin/python" -m pytest -q "$@"
  local r=$?
  if [ "$r" = 5 ]; then echo "compat_test.sh: $name: pytest collected no tests" >&2; r=1; fi
  if [ "$r" != 0 ]; then echo "compat_test.sh: $name: the tests failed (exit $r)" >&2; rc=1; fi
}

# newest
t0=$(date +%s)
py="${GAITINT_NEW_PYTHON:-}"
if [ -z "$py" ]; then
  for cand in python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3.13; do
    if "$cand" -c "import sys; assert sys.version_info >= (3, 13)" >/dev/null 2>&1; then py="$cand"; break; fi
  done
fi
if [ -z "$py" ]; then
  echo "compat_test.sh: newest: skipped: no Python 3.13 on this machine (set GAITINT_NEW_PYTHON)"
else
  venv="${GAITINT_NEW_VENV:-.venv-new}"
  if { [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"; } \
      && "$venv/bin/python" -m pip install -q -e ".[testing]"; then
    run newest "$venv" tests/core tests/cli tests/napari "$@"
  else
    echo "compat_test.sh: newest: could not build $venv" >&2; rc=1
  fi
  echo "compat_test.sh: newest: done in $(( $(date +%s) - t0 )) s"
fi

# lowest
t0=$(date +%s)
venv="${GAITINT_LOWEST_VENV:-.venv-lowest}"
lowest="$(mktemp)"
python3 - > "$lowest" <<'PY'
import re, tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    name, low = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9.]+)\s*", dep).groups()
    print(f"{name}=={low}")
PY
if { [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; } \
    && "$venv/bin/python" -m pip install -q -c "$lowest" -e . pytest hypothesis "statsmodels>=0.14"; then
  run lowest "$venv" tests/core tests/cli "$@"
else
  echo "compat_test.sh: lowest: could not build $venv with $(tr '\n' ' ' < "$lowest")" >&2; rc=1
fi
rm -f "$lowest"
echo "compat_test.sh: lowest: done in $(( $(date +%s) - t0 )) s (exit $rc)"
exit "$rc"
