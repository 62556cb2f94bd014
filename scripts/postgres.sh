#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and local try-outs:
#
#   scripts/postgres.sh start DIR   creates a cluster in DIR (a new or empty directory),
#                                   starts it on a free loopback port and prints its URL,
#                                   e.g. postgres://weir@127.0.0.1:40123/weir
#   scripts/postgres.sh stop DIR    stops that cluster and removes DIR
#
# PostgreSQL comes from Debian's packages (apt-get, as root) when initdb/pg_ctl are
# missing. The server runs as an unprivileged user (initdb refuses root): as the caller
# when not root, else as `postgres` (created by Debian's package). It listens on
# 127.0.0.1 only, trusts local connections (no password: a throwaway cluster) and keeps
# everything, socket included, inside DIR. scripts/test.sh uses it for the PostgreSQL
# store tests.
set -euo pipefail

die() { printf 'postgres.sh: error: %s\n' "$*" >&2; exit 1; }

# The directory of initdb and pg_ctl: on PATH, else Debian's newest installed version.
bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return
    fi
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_postgres() {
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing PostgreSQL with apt-get" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 \
            || die "apt-get install postgresql failed"
    else
        die "PostgreSQL (initdb, pg_ctl) not found: install Debian's postgresql package"
    fi
}

# Runs a command as the cluster's user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir="$1" bin port
    bin="$(bindir)" || true
    if [ -z "$bin" ]; then
        install_postgres
        bin="$(bindir)" || die "PostgreSQL was installed but initdb is not found"
    fi
    if [ "$(id -u)" = 0 ]; then
        getent passwd postgres >/dev/null || die "running as root needs the user postgres (Debian's package creates it)"
    fi
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
        as_owner test -w "$dir" || die "the user postgres cannot reach $dir (a parent directory is private)"
    fi
    as_owner "$bin/initdb" --pgdata="$dir/data" --username=weir --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
    # A free port can be taken between choosing and binding it: try a few.
    for _ in 1 2 3; do
        port="$(free_port)"
        if as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
            --options="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=400 -c fsync=on" \
            start >/dev/null; then
            as_owner "$bin/createdb" --host=127.0.0.1 --port="$port" --username=weir weir \
                || die "createdb weir failed"
            echo "postgres://weir@127.0.0.1:$port/weir"
            return
        fi
    done
    die "the cluster did not start: $(tail -n 5 "$dir/server.log")"
}

stop() {
    local dir="$1" bin
    bin="$(bindir)" || true
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 start DIR | stop DIR" ;;
esac
