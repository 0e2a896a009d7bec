#!/usr/bin/env bash
# Installs the service into .venv and starts it on embedded defaults: SQLite, an embedded
# Redis, the Open Dental simulator with a demo practice. Prints the API keys to use.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e .
exec .venv/bin/writeback local "$@"
