#!/usr/bin/env bash
# Install napari-gaitint and everything it needs on a fresh Debian machine (run as root, or with sudo
# available for the system packages). Creates ./.venv (reusing any packages the system Python has).
#   bash scripts/install.sh            # the package, napari and Qt (extra [all])
#   bash scripts/install.sh --testing  # plus the test tools and movement (extra [testing])
#   bash scripts/install.sh --dlc      # plus DeepLabCut (large: PyTorch)
#   bash scripts/install.sh --docs     # plus the documentation tools (MkDocs)
# `pip install napari-gaitint` alone gives the core, the CLI and the plugin code without napari
# or a Qt binding; this script always adds napari with PyQt6 so `gaitint demo --gui` works.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="all"
for arg in "$@"; do
  case "$arg" in
    --testing) extras="${extras:+$extras,}testing" ;;
    --dlc) extras="${extras:+$extras,}dlc" ;;
    --docs) extras="${extras:+$extras,}docs" ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# Qt (napari's window) needs these system libraries; Xvfb gives a screen on a headless machine.
debs="xvfb xauth libgl1 libegl1 libgl1-mesa-dri libglx-mesa0 libdbus-1-3 libfontconfig1 libglib2.0-0
libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1 libxcb-util1 libxcb-glx0"
missing=""
for d in $debs; do dpkg -s "$d" >/dev/null 2>&1 || missing="$missing $d"; done
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  missing="$missing python3-venv python3-pip"
fi
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "install.sh: installing system packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[$extras]"
echo "install.sh: napari-gaitint installed in $(pwd)/.venv (run .venv/bin/gaitint --help)"
