#!/usr/bin/env bash
# CI step for the DeepLabCut integration (`pytest -m dlc`): builds its own environment
# .venv-dlc (DeepLabCut 3 needs pandas<3 and brings PyTorch, so it stays out of .venv),
# installs napari-gaitint[dlc,testing] there and trains + runs a tiny real network; then runs
# the core, command-line and napari tests in that environment (pandas 2, as DeepLabCut users have).
#   bash scripts/dlc_test.sh [pytest options]
# Environment: GAITINT_DLC_VENV (default .venv-dlc), GAITINT_TORCH_SPEC (torch/torchvision
# pins; default: the CPU-machine pair known to import together, see below),
# GAITINT_DLC_EPOCHS (training epochs of the test network), GAITINT_DLC_REPORT (JSON of the
# measured numbers).
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${GAITINT_DLC_VENV:-.venv-dlc}"
t0=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || exit 1
fi
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch + torchvision must come as a matching pair: a lone `torchvision` from PyPI beside a
# locally provided torch fails to import ("operator torchvision::nms does not exist").
if [ -z "${GAITINT_TORCH_SPEC+x}" ]; then
  case "$(uname -m)" in
    x86_64) GAITINT_TORCH_SPEC="torch==2.14.1 torchvision==0.29.1" ;;
    aarch64) GAITINT_TORCH_SPEC="torch==2.9.1 torchvision==0.24.1" ;;
    *) GAITINT_TORCH_SPEC="" ;;
  esac
fi
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install -q $GAITINT_TORCH_SPEC -e ".[dlc,testing]" || exit 1
echo "dlc_test.sh: environment ready in $(( $(date +%s) - t0 )) s"
export HF_HUB_OFFLINE=1  # no model-hub downloads in tests: the test network starts from random weights
if ! "$venv/bin/python" -c "import deeplabcut, torch; print('deeplabcut', deeplabcut.__version__, 'torch', torch.__version__)"; then
  echo "dlc_test.sh: deeplabcut does not import in $venv" >&2
  exit 1
fi
export GAITINT_DLC_REPORT="${GAITINT_DLC_REPORT:-${TMPDIR:-/tmp}/gaitint-dlc-test-report.json}"
rm -f "$GAITINT_DLC_REPORT"
"$venv/bin/python" -m pytest -m dlc tests/dlc "$@"
rc=$?
[ -f "$GAITINT_DLC_REPORT" ] && { echo "dlc_test.sh: measured:"; cat "$GAITINT_DLC_REPORT"; echo; }
if [ "$rc" = 5 ]; then echo "dlc_test.sh: pytest collected no dlc tests" >&2; rc=1; fi
# The same environment is the one DeepLabCut users install the plugin into (pandas 2, the
# Python DeepLabCut supports): the analysis core, the command line and the napari plugin
# must behave there as in .venv (pandas 3). GAITINT_PANDAS2_PYTHON also runs the check that
# our files open in it.
echo "dlc_test.sh: the core, command-line and napari tests under $("$venv/bin/python" -c 'import sys, pandas; print(f"Python {sys.version.split()[0]}, pandas {pandas.__version__}")')"
GAITINT_PANDAS2_PYTHON="$venv/bin/python" "$venv/bin/python" -m pytest -q tests/core tests/cli tests/napari "$@"
rc_core=$?
if [ "$rc_core" != 0 ]; then
  echo "dlc_test.sh: the core/command-line/napari tests failed under pandas 2 (exit $rc_core)" >&2
  rc=1
fi
echo "dlc_test.sh: done in $(( $(date +%s) - t0 )) s (exit $rc)"
exit "$rc"
