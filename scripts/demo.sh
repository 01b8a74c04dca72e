#!/usr/bin/env bash
# One command: install everything and run the demo powiat (synthetic data) on http://127.0.0.1:8080.
# Extra arguments go to `platforma demo` (e.g. --port 9090, --dir /tmp/demo, --pup 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/platforma demo "$@"
