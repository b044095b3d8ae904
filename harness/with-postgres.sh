#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL primary and a streaming replica.
#
#   harness/with-postgres.sh COMMAND [ARGS...]
#
# Both servers live in a temporary directory on free loopback ports below 32768, and are
# stopped and removed when the command ends, whatever its outcome. The command sees
# DATABASE_URL and DATABASE_REPLICA_URLS, plus FITHUB_PG_* variables that fault tests use
# to stop, start and pause the servers (FITHUB_PG_DURABLE=1: with fsync and synchronous_commit
# on, see below). When DATABASE_URL is already set, the command runs
# against those servers instead and nothing is started.
set -euo pipefail

if [[ -n "${DATABASE_URL:-}" ]]; then
    exec "$@"
fi

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

BINDIR=$(find_bindir)
if [[ -z "$BINDIR" ]]; then
    echo "with-postgres: no PostgreSQL server binaries found; installing them with apt-get" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    BINDIR=$(find_bindir)
    [[ -n "$BINDIR" ]] || { echo "with-postgres: PostgreSQL install failed" >&2; exit 1; }
fi

# initdb and the server refuse to run as root: run them as postgres then.
if [[ $(id -u) -eq 0 ]]; then
    PG_USER=postgres
    RUN=(runuser -u postgres --)
else
    PG_USER=$(id -un)
    RUN=()
fi

HARNESS=$(cd "$(dirname "$0")" && pwd)
free_port() { # [TAKEN...]: harness/servers.py's, with the system python3 (no virtualenv needed)
    python3 "$HARNESS/servers.py" free-port "$@"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fithub-pg.XXXXXX")
chmod 755 "$WORK"
[[ $(id -u) -eq 0 ]] && chown "$PG_USER" "$WORK"
PRIMARY_PORT=$(free_port)
REPLICA_PORT=$(free_port "$PRIMARY_PORT")
PRIMARY_DATA="$WORK/primary"
REPLICA_DATA="$WORK/replica"

CHILD=""
CLEANED=""
cleanup() {
    local status=$?
    [[ -n "$CLEANED" ]] && exit "$status"
    CLEANED=1
    if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
        kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    for data in "$REPLICA_DATA" "$PRIMARY_DATA"; do
        if [[ -f "$data/postmaster.pid" ]]; then
            "${RUN[@]}" "$BINDIR/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
    done
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT INT TERM

locale_args=(--no-locale)
if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then
    locale_args=(--locale=C.UTF-8)
fi

"${RUN[@]}" "$BINDIR/initdb" -D "$PRIMARY_DATA" -U "$PG_USER" --auth=trust --encoding=UTF8 "${locale_args[@]}" \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
# Fast by default: a crash may then lose acknowledged commits, which no ordinary test sees.
# FITHUB_PG_DURABLE=1 keeps PostgreSQL's defaults (fsync, synchronous_commit and
# full_page_writes on) for the fault matrix (make chaos), where a lost write must show.
if [[ "${FITHUB_PG_DURABLE:-0}" == 1 ]]; then
    DURABILITY=on
else
    DURABILITY=off
fi
cat >>"$PRIMARY_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
timezone = 'UTC'
max_connections = 200
shared_buffers = 128MB
fsync = $DURABILITY
synchronous_commit = $DURABILITY
full_page_writes = $DURABILITY
wal_keep_size = 256MB
EOF

start_server() { # data-dir port log
    "${RUN[@]}" "$BINDIR/pg_ctl" -D "$1" -l "$3" -o "-p $2" -w -t 60 start >/dev/null \
        || { cat "$3" >&2; exit 1; }
}

start_server "$PRIMARY_DATA" "$PRIMARY_PORT" "$WORK/primary.log"
"${RUN[@]}" "$BINDIR/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$PG_USER" -D "$REPLICA_DATA" \
    -R -X stream -c fast
start_server "$REPLICA_DATA" "$REPLICA_PORT" "$WORK/replica.log"
"$BINDIR/createdb" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$PG_USER" fithub

export DATABASE_URL="postgres://$PG_USER@127.0.0.1:$PRIMARY_PORT/fithub"
export DATABASE_REPLICA_URLS="postgres://$PG_USER@127.0.0.1:$REPLICA_PORT/fithub"
export FITHUB_PG_BINDIR="$BINDIR" FITHUB_PG_WORKDIR="$WORK" FITHUB_PG_RUN_AS="${RUN[*]:-}"
export FITHUB_PG_PRIMARY_DATA="$PRIMARY_DATA" FITHUB_PG_PRIMARY_PORT="$PRIMARY_PORT"
export FITHUB_PG_REPLICA_DATA="$REPLICA_DATA" FITHUB_PG_REPLICA_PORT="$REPLICA_PORT"
echo "with-postgres: primary on 127.0.0.1:$PRIMARY_PORT, streaming replica on 127.0.0.1:$REPLICA_PORT, fsync $DURABILITY ($WORK)"

# In the background so that a signal interrupts `wait` and the servers stop at once.
"$@" <&0 &
CHILD=$!
wait "$CHILD"
