#!/usr/bin/env bash
# The main job: install, index the bundled sample articles into index/, serve the search page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.lock
.venv/bin/newsearch index search/samples --index index
exec .venv/bin/newsearch serve --index index --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
