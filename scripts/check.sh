#!/usr/bin/env bash
# Installs everything into .venv, then runs every check: lint, format, types,
# import boundaries, the content check and the tests: the database tests on PostgreSQL, then
# everything on SQLite (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The browser tests (tests/browser) drive Debian's headless Chromium; installed here when missing and
# this is root. VERTEBROBOT_SKIP_BROWSER=1 skips them (they say so) on a machine without it.
if [ "${VERTEBROBOT_SKIP_BROWSER:-}" != 1 ] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Chromium and its driver from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
    else
        echo "Chromium is not installed: install Debian's 'chromium' and 'chromium-driver' (or run as root)," >&2
        echo "or set VERTEBROBOT_SKIP_BROWSER=1 to leave the browser tests out." >&2
        exit 1
    fi
fi

# One command a line: under `set -e` a failure inside an `a && b` list does not stop the script
# (a lint error once passed CI that way).
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== import boundaries"
.venv/bin/lint-imports --no-cache
echo "== content"
.venv/bin/vertebrobot content check
# The storage, reminder, API and end-to-end tests again on a real PostgreSQL (several instances
# share one in production); VERTEBROBOT_SKIP_POSTGRES=1 leaves this pass out on a machine without it.
if [ -z "${VERTEBROBOT_SKIP_POSTGRES:-}" ]; then
    echo "== tests on PostgreSQL"
    bash scripts/with-postgres.sh .venv/bin/python -m pytest "$@" \
        tests/integration/test_reachability.py \
        tests/integration/test_store.py tests/integration/test_migrations.py tests/integration/test_dispatcher.py \
        tests/integration/test_api.py tests/integration/test_api_limits.py tests/integration/test_api_privacy.py tests/integration/test_retention.py tests/integration/test_processed_updates.py tests/integration/test_send_budget.py \
        tests/integration/test_clinic_import.py tests/integration/test_web.py tests/e2e
fi
echo "== tests"
.venv/bin/python -m pytest "$@"
