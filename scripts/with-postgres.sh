#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL: a new cluster in a temporary folder, listening
# on loopback only, removed afterwards. The command sees VERTEBROBOT_TEST_DATABASE_URL.
# PostgreSQL comes from Debian's packages (installed here if missing and this is root).
#
#   bash scripts/with-postgres.sh .venv/bin/python -m pytest tests/e2e
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing PostgreSQL from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
        echo "PostgreSQL is not installed: install Debian's 'postgresql' package (or run as root)," >&2
        echo "or set VERTEBROBOT_SKIP_POSTGRES=1 to run the tests on SQLite only." >&2
        exit 1
    fi
fi

folder=$(mktemp -d)
owner=$(id -un)
as_owner=()
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root: its own system user runs it
    owner=postgres
    chown postgres "$folder"
    as_owner=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$folder/data" -A trust -U "$owner" -E UTF8 --no-locale >"$folder/initdb.log" 2>&1 \
    || { cat "$folder/initdb.log" >&2; exit 1; }
# Durability off: a test cluster that is thrown away needs no fsync.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$folder -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$folder/server.log" >&2; exit 1; }

export VERTEBROBOT_TEST_DATABASE_URL="postgresql+asyncpg://$owner@127.0.0.1:$port/postgres"
"$@"
