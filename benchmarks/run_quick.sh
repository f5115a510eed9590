#!/usr/bin/env bash
# Run every benchmark (timing script, benchmarks/) and every synthetic accuracy script
# (validation/: validate_events, validate_cleaning, robustness_events, stats_calibration) in
# its --quick mode (small sizes) so they keep working and their checks hold; for CI. The
# accuracy scripts on real walking (validation/validate_real_*.py, validate_angles.py) need
# ../shared/realgait and are run by hand (docs/methods/).
# Exits non-zero if any benchmark fails (all are run; the failures are listed at the end).
#
#   bash benchmarks/run_quick.sh                 # with .venv/bin/python (or $PYTHON)
#   PYTHON=.venv-bench/bin/python bash benchmarks/run_quick.sh   # with the movement baselines
#
# Benchmarks needing a display (napari_*.py, qa_session.py) run under `xvfb-run -a` when it exists and are
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
for script in benchmarks/[!_]*.py validation/{validate_events,validate_cleaning,robustness_events,stats_calibration}.py; do
  name="$(basename "$script")"
  cmd=("$PY" "$script" --quick)
  case "$name" in
    napari_*|qa_session.py)
      if command -v xvfb-run >/dev/null 2>&1; then
        cmd=(xvfb-run -a -s "-screen 0 1280x800x24" "${cmd[@]}")
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
# a long-recording cohort (treadmill trials), small
echo "=== cohort_throughput.py --minutes"
if "$PY" benchmarks/cohort_throughput.py --quick --minutes 1 --no-serial; then
  echo "--- cohort_throughput.py --minutes ok"
else
  echo "--- cohort_throughput.py --minutes FAILED (exit $?)" >&2
  failed+=("cohort_throughput.py --minutes")
fi
# the scripts' own-data options, on a small synthetic study written like a user's
# (videos, DLC predictions, trials.csv); the folder must come out unchanged
own="$(mktemp -d)"
trap 'rm -rf "$own"' EXIT
if "$PY" -c "import sys; from napari_gaitint.cli import main; sys.exit(main(sys.argv[1:]))" \
    synth "$own/study" --trials 2 >/dev/null 2>&1; then
  # every file and folder with its size and modification time (a folder's changes when a
  # file is made or removed in it)
  listing() { (cd "$own/study" && find . -exec stat -c '%n %s %Y' {} + | sort); }
  before="$(listing)"
  own_runs=(
    "video_access.py|$PY benchmarks/video_access.py --quick --fetches 5 --video $own/study/T01_C1.mp4"
    "cohort_throughput.py|$PY benchmarks/cohort_throughput.py --manifest $own/study/trials.csv"
  )
  if command -v xvfb-run >/dev/null 2>&1; then
    h5="$(ls "$own"/study/T01_C1DLC*.h5)"
    own_runs+=("napari_long_recording.py|xvfb-run -a $PY benchmarks/napari_long_recording.py --quick --predictions $h5")
    own_runs+=("napari_video_playback.py|xvfb-run -a $PY benchmarks/napari_video_playback.py --quick --video $own/study/T01_C1.mp4 $own/study/T01_C3.mp4")
  fi
  for run in "${own_runs[@]}"; do
    name="${run%%|*} (own data)"
    echo "=== $name"
    # shellcheck disable=SC2086  # word splitting wanted (paths made here have no spaces)
    if ${run#*|}; then
      echo "--- $name ok"
    else
      echo "--- $name FAILED (exit $?)" >&2
      failed+=("$name")
    fi
  done
  if [ "$(listing)" != "$before" ]; then
    echo "--- the own-data runs changed the study folder" >&2
    failed+=("own data left unchanged")
  fi
else
  echo "--- could not write the synthetic study for the own-data runs" >&2
  failed+=("own-data study")
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_quick.sh: ${#failed[@]} script(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_quick.sh: all benchmarks and synthetic validation scripts ran"
