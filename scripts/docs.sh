#!/usr/bin/env bash
# Build the documentation site into site/ with warnings as errors (as CI does).
#   bash scripts/docs.sh            # install the [docs] extra into .venv, then build site/
#   bash scripts/docs.sh serve      # the same, then a live preview on http://127.0.0.1:8000
# docs/cli.md is generated from gaitint's parsers: .venv/bin/python scripts/cli_page.py
set -euo pipefail
export NO_MKDOCS_2_WARNING=1   # the theme's banner about MkDocs 2
cd "$(dirname "$0")/.."
bash scripts/install.sh --docs
if [ "${1:-}" = serve ]; then
  exec .venv/bin/python -m mkdocs serve
fi
.venv/bin/python -m mkdocs build --strict --clean --site-dir site
echo "docs.sh: site built in $(pwd)/site (open site/index.html)"
