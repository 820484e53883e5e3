#!/usr/bin/env bash
# Installs everything into .venv, then runs every check: lint, format, types,
# import boundaries, the content check and the tests (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy" && .venv/bin/mypy
echo "== import boundaries" && .venv/bin/lint-imports --no-cache
echo "== content" && .venv/bin/vertebrobot content check
echo "== tests" && .venv/bin/python -m pytest "$@"
