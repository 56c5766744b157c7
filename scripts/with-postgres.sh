#!/usr/bin/env bash
# Runs COMMAND with a throwaway PostgreSQL 15 server and returns its exit status.
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
#
# The server listens on a free port of 127.0.0.1 (its socket in a temporary
# folder), trusts local connections, and is stopped and deleted on exit.
# COMMAND sees SLUICE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres.
# As root, the server runs as the postgres user (initdb refuses root); otherwise
# it runs as the current user.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
pg_bin=${SLUICE_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$pg_bin/initdb" ]; then
  echo "$0: no PostgreSQL 15 in $pg_bin; run scripts/install-deps.sh" >&2
  exit 2
fi

as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

data=$(mktemp -d -t sluice-pg-data.XXXXXX)
sockets=$(mktemp -d -t sluice-pg-sock.XXXXXX)
started=0
cleanup() {
  if [ "$started" -eq 1 ]; then
    as_server_user "$pg_bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data" "$sockets"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$(id -u)" -eq 0 ]; then chown postgres "$data" "$sockets"; fi
chmod 700 "$data"

as_server_user "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$sockets/initdb.log" 2>&1 || { cat "$sockets/initdb.log" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Another process may take the free port before the server binds it: try again.
for attempt in 1 2 3; do
  port=$(free_port)
  if as_server_user "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $sockets" start >/dev/null; then
    started=1
    break
  fi
done
if [ "$started" -ne 1 ]; then
  echo "$0: the PostgreSQL server did not start:" >&2
  cat "$data/server.log" >&2 || true
  exit 1
fi

export SLUICE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
status=0
"$@" || status=$?
exit "$status"
