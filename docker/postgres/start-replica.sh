#!/usr/bin/env bash
# The streaming replica: on first start, clone the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), then run as a hot standby.
set -euo pipefail

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    until pg_isready -h db-primary -p 5432 -q; do sleep 1; done
    export PGPASSWORD="$REPLICATION_PASSWORD"
    pg_basebackup -h db-primary -p 5432 -U replicator -D "$PGDATA" -R -X stream -c fast
    chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c timezone=UTC
