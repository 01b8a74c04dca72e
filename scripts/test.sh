#!/usr/bin/env bash
# One command: install everything (Debian packages, virtualenv) and run the whole test suite:
# lint (ruff), import rules, types (mypy), fuzzing, contracts drift, unit, integration and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"   # a test that needs a missing system tool fails (naming it) instead of skipping
scripts/bootstrap.sh --test
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache   # the import rules of DESIGN.md "Layout" (setup.cfg [importlinter])
.venv/bin/mypy hub audit contract replica demo adapters
.venv/bin/mypy --strict audit
if [[ -d signing ]]; then .venv/bin/mypy --strict signing; fi
scripts/fuzz.sh 30   # atheris, 30 s per entry point reading untrusted bytes (docs/fuzzing.md); fails on a finding
exec .venv/bin/python -m pytest -q "$@"
