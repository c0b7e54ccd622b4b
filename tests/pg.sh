#!/usr/bin/env bash
# pg.sh - a private PostgreSQL 15 server on loopback, for tests.
#
#   tests/pg.sh [start] [DIR]   start (or find already running) a server whose
#                               state lives in DIR (default $ONESTACK_PG_DIR or
#                               /tmp/onestack-pg); prints its URL on stdout:
#                               postgresql://onestack:PW@127.0.0.1:PORT/onestack_test
#   tests/pg.sh url [DIR]       print the URL of the running server
#   tests/pg.sh stop [DIR]      stop the server and delete DIR
#
# The user may create databases (test fixtures make one per daemon).
# The server listens on 127.0.0.1 only, on a free port, with its unix socket
# inside DIR (so it never touches the system cluster in /var/run/postgresql).
# As root it runs as the `postgres` system user, which owns DIR. Durability
# is switched off (fsync, full_page_writes): this is a throw-away test server.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGBIN=/usr/lib/postgresql/15/bin
DB=onestack_test
DBUSER=onestack

cmd=start
case "${1:-}" in start|stop|url) cmd=$1; shift ;; esac
DIR="${1:-${ONESTACK_PG_DIR:-/tmp/onestack-pg}}"
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
DATA="$DIR/data"

log() { echo "pg.sh: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

running() { [ -f "$DATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

stop() {
    if running; then
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null
        log "stopped ($DIR)"
    fi
    # Only delete what looks like ours.
    if [ -d "$DIR" ] && { [ -f "$DIR/url" ] || [ -d "$DATA" ] || [ -z "$(ls -A "$DIR")" ]; }; then
        rm -rf "$DIR"
    fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

psql_local() {  # superuser over the private unix socket
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$(cat "$DIR/port")" -d postgres "$@"
}

start() {
    if running && [ -f "$DIR/url" ]; then cat "$DIR/url"; return 0; fi
    [ -x "$PGBIN/initdb" ] || "$REPO/scripts/install-deps.sh" --test >&2
    [ -x "$PGBIN/initdb" ] || { log "PostgreSQL 15 not found in $PGBIN"; exit 1; }

    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
    chmod 0700 "$DIR"
    if ! as_pg test -w "$DIR"; then
        rmdir "$DIR" 2>/dev/null || true
        log "$DIR is not writable by the postgres user (is a parent directory private?)"
        exit 1
    fi

    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$DATA"
        # trust on the unix socket only (it lives in the 0700 DIR); passwords over TCP.
        as_pg "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
            { cat "$DIR/initdb.log" >&2; exit 1; }
    fi

    local tries=0 port
    while :; do
        port=$(free_port)
        echo "$port" > "$DIR/port"
        if as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$DIR \
                -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
                -c max_connections=200" start >/dev/null; then
            break
        fi
        tries=$((tries + 1))
        if [ $tries -ge 3 ]; then tail -20 "$DIR/server.log" >&2; exit 1; fi
        log "start on port $port failed; retrying"
    done

    local pw
    if [ -f "$DIR/password" ]; then pw=$(cat "$DIR/password"); else
        pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077; echo "$pw" > "$DIR/password")
    fi
    psql_local <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DBUSER') THEN
    CREATE ROLE $DBUSER LOGIN CREATEDB;
  END IF;
END\$\$;
ALTER ROLE $DBUSER WITH LOGIN CREATEDB PASSWORD '$pw';
SQL
    if [ -z "$(psql_local -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
        psql_local -c "CREATE DATABASE $DB OWNER $DBUSER"
    fi
    echo "postgresql://$DBUSER:$pw@127.0.0.1:$port/$DB" > "$DIR/url"
    cat "$DIR/url"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    url) running && [ -f "$DIR/url" ] || { log "not running ($DIR)"; exit 1; }; cat "$DIR/url" ;;
esac
