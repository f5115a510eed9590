#!/usr/bin/env bash
# Run every benchmark in its --quick mode (small sizes) so they keep working; for CI.
# Exits non-zero if any benchmark fails (all are run; the failures are listed at the end).
#
#   bash benchmarks/run_quick.sh                 # with .venv/bin/python (or $PYTHON)
#   PYTHON=.venv-bench/bin/python bash benchmarks/run_quick.sh   # with the movement baselines
#
# Benchmarks needing a display (napari_*.py) run under `xvfb-run -a` when it exists and are
# skipped (with a note) otherwise; QT_QPA_PLATFORM=offscreen is never used (it renders black).
# Timings printed here are not meaningful (tiny sizes, shared CI machines); run the scripts
# without --quick for the numbers.
set -u
cd "$(dirname "$0")/.." || exit 2
PY="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
  echo "run_quick.sh: no python at $PY (set PYTHON=...)" >&2
  exit 2
fi
failed=()
for script in benchmarks/*.py; do
  name="$(basename "$script")"
  cmd=("$PY" "$script" --quick)
  case "$name" in
    napari_*)
      if command -v xvfb-run >/dev/null 2>&1; then
        cmd=(xvfb-run -a "${cmd[@]}")
      else
        echo "=== $name: skipped (needs a display: install xvfb)"
        continue
      fi
      ;;
  esac
  echo "=== $name"
  start=$(date +%s)
  if "${cmd[@]}"; then
    echo "--- $name ok ($(( $(date +%s) - start )) s)"
  else
    echo "--- $name FAILED (exit $?)" >&2
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_quick.sh: ${#failed[@]} benchmark(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_quick.sh: all benchmarks ran"
