#!/usr/bin/env bash
# Sets up the virtualenv, makes sure PostgreSQL and Redis run, then runs lint, types and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e '.[test]'

scripts/services.sh

.venv/bin/ruff check .
.venv/bin/mypy .
# domain/ must stay free of frameworks (api, jobs, strawberry, starlette, arq, redis).
if grep -rnE "^\s*(from|import) (api|jobs|app|connectors|strawberry|starlette|arq|redis)\b" domain/; then
  echo "domain/ imports a framework or an outer layer" >&2; exit 1
fi
.venv/bin/pytest "$@"
