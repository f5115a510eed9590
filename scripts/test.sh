#!/usr/bin/env bash
# Install napari-gaitint with its test tools and run the test suite (Qt tests run under Xvfb).
#   bash scripts/test.sh [pytest options]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --testing || exit 1
.venv/bin/python -m pytest -m "not dlc" "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "test.sh: pytest collected no tests" >&2; exit 1; fi
exit "$rc"
