#!/usr/bin/env bash
# Run the synthetic accuracy scripts in their --quick mode (small sizes) so they keep working
# and their checks hold; for CI (.ci/run). Exits non-zero if any fails (all are run; the
# failures are listed at the end).
#
#   bash validation/run_quick.sh                 # with .venv/bin/python (or $PYTHON)
#
# The scripts on real walking (validate_real_*.py, validate_angles.py,
# calibrate_synthetic_feet.py) need ../shared/realgait and are run by hand (docs/methods/).
set -u
cd "$(dirname "$0")/.." || exit 2
PY="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
  echo "run_quick.sh: no python at $PY (set PYTHON=...)" >&2
  exit 2
fi
failed=()
for name in validate_events.py validate_cleaning.py robustness_events.py stats_calibration.py; do
  echo "=== $name"
  start=$(date +%s)
  if "$PY" "validation/$name" --quick; then
    echo "--- $name ok ($(( $(date +%s) - start )) s)"
  else
    echo "--- $name FAILED (exit $?)" >&2
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_quick.sh: ${#failed[@]} validation script(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_quick.sh: all synthetic validation scripts ran"
