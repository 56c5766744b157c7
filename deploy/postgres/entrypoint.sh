#!/bin/sh
# First start: initdb, then create the application role and database.
# Later starts (a kept volume): just run the server.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=sluice}" "${POSTGRES_PASSWORD:=sluice}" "${POSTGRES_DB:=sluice}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "sluice-postgres: initialising $PGDATA"
  initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "unix_socket_directories = '/var/run/postgresql'"
    echo "password_encryption = 'scram-sha-256'"
    echo "max_connections = 200"
  } >>"$PGDATA/postgresql.conf"
  # Local socket: trust (only this container); everything else: password.
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

  # A private socket-only server for the setup, so nobody connects half-way.
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
  psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres \
       -v user="$POSTGRES_USER" -v password="$POSTGRES_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
  pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
  echo "sluice-postgres: database '$POSTGRES_DB' owned by '$POSTGRES_USER' is ready"
fi

exec postgres -D "$PGDATA" "$@"
