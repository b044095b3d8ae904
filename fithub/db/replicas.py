"""The replicas' state in this process: which one serves a read, and how far behind it is.

`ReplicaSelector` measures each replica's replay lag at most every REPLICA_CHECK_SECONDS
per process and skips replicas lagging more than REPLICA_MAX_LAG_SECONDS. A replica that
fails (at connect or mid-query, see `fithub.db.backends.replica`) is marked down and
retried after an exponential back-off.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# 0 when the replica has replayed everything it received; otherwise the age of the last
# replayed transaction (the timestamp alone keeps growing while the primary is idle).
# `<=`, not `=`: after a standby restarts, the receive position can trail the replay
# position (it restarts at a segment boundary). Not streaming (NULL): the age, conservatively.
REPLICA_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""


@dataclass
class ReplicaState:
    lag_seconds: float | None = None
    next_check: float = 0.0  # monotonic time of the next lag measurement
    down_until: float = 0.0  # monotonic time before which the replica is not used
    failures: int = 0  # consecutive failures, for the back-off


def replica_state(alias: str) -> dict:
    """Whether the replica answers, whether it is a standby, and its replay lag in seconds."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        with contextlib.suppress(DatabaseError):
            connection.close()
        return {"alias": alias, "ok": False, "error": exc.__class__.__name__}
    if not in_recovery:
        # Not a standby: promoted, or the replica backend fell back to the primary because the
        # replica is unreachable. Reconnect next time.
        with contextlib.suppress(DatabaseError):
            connection.close()
        return {"alias": alias, "ok": False, "error": "unreachable; reads fall back to the primary"}
    return {"alias": alias, "ok": True, "in_recovery": True, "lag_seconds": round(float(lag), 3)}


def measure_replica(alias: str) -> float | None:
    """The replica's replay lag in seconds, or None when it is down or not a standby."""
    state = replica_state(alias)
    return state["lag_seconds"] if state["ok"] else None


class ReplicaSelector:
    """Picks the replica alias for a read, or None for the primary. One per process."""

    def __init__(self) -> None:
        self._states: dict[str, ReplicaState] = {}
        self._lock = threading.Lock()

    def state(self, alias: str) -> ReplicaState:
        with self._lock:
            return self._states.setdefault(alias, ReplicaState())

    def reset(self) -> None:
        with self._lock:
            self._states.clear()

    def choose(self) -> str | None:
        replicas = [alias for alias in settings.DATABASE_REPLICAS if self.usable(alias)]
        if not replicas:
            return None
        return replicas[0] if len(replicas) == 1 else random.choice(replicas)  # noqa: S311 - load spreading

    def usable(self, alias: str) -> bool:
        state = self.state(alias)
        now = time.monotonic()
        if now < state.down_until:
            return False
        if now >= state.next_check:
            state.next_check = now + settings.REPLICA_CHECK_SECONDS
            lag = measure_replica(alias)
            if lag is None:
                self.mark_down(alias, reason="check failed")
                return False
            state.lag_seconds = lag
            state.failures = 0
        return state.lag_seconds is not None and state.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS

    def mark_down(self, alias: str, *, reason: str) -> None:
        """Stop using the replica for a back-off that doubles with each consecutive failure."""
        state = self.state(alias)
        state.failures += 1
        backoff = min(settings.REPLICA_RETRY_MAX_SECONDS, settings.REPLICA_RETRY_SECONDS * 2 ** (state.failures - 1))
        now = time.monotonic()
        state.down_until = now + backoff
        state.next_check = state.down_until
        state.lag_seconds = None
        logger.warning("replica %s unavailable (%s); reads go to the primary for %.1f s", alias, reason, backoff)


replica_selector = ReplicaSelector()


class ReplicaLagCollector(Collector):
    """Measures each replica when scraped: `fithub_replica_up` (1 when it answers as a standby)
    and `fithub_replica_lag_seconds` (replay lag, 0 when all received WAL is replayed)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("fithub_replica_up", "1 when the replica answers as a standby.", labels=["replica"])
        lag = GaugeMetricFamily("fithub_replica_lag_seconds", "Replica replay lag in seconds.", labels=["replica"])
        for alias in settings.DATABASE_REPLICAS:
            state = replica_state(alias)
            healthy = state["ok"] and state.get("in_recovery", False)
            up.add_metric([alias], 1.0 if healthy else 0.0)
            if state["ok"]:
                lag.add_metric([alias], state["lag_seconds"])
        yield up
        yield lag
