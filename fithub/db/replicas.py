"""The replicas' state in this process: which one serves a read, and how far behind it is.

`ReplicaSelector` measures each replica's replay lag at most every REPLICA_CHECK_SECONDS
per process and skips replicas lagging more than REPLICA_MAX_LAG_SECONDS. The same query
reads the replica's replay position, which `fithub.db.read_your_writes` compares with a
user's last write.

A replica that fails (at connect or mid-query, see `fithub.db.backends.replica`) is marked
down and retried after a back-off that doubles from REPLICA_RETRY_SECONDS up to
REPLICA_RETRY_MAX_SECONDS (a few seconds) while it keeps failing. The back-off forgets: a
successful check resets it, and so does a failure that comes long after the previous one
(more than REPLICA_RETRY_MAX_SECONDS after its back-off ended), so an earlier outage never
stretches the wait after the next one.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
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
# Then the replay position, in bytes from the start of the WAL.
REPLICA_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END,
       pg_last_wal_replay_lsn() - '0/0'::pg_lsn
"""


@dataclass
class ReplicaState:
    lag_seconds: float | None = None
    next_check: float = 0.0  # monotonic time of the next lag measurement
    down_until: float = 0.0  # monotonic time before which the replica is not used
    failures: int = 0  # consecutive failures, for the back-off
    replay_lsn: int | None = None  # the replay position last seen (bytes), a lower bound of today's
    replay_seen: float = 0.0  # monotonic time it was seen


def replica_state(alias: str) -> dict:
    """Whether the replica answers, whether it is a standby, and its replay lag in seconds."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            in_recovery, lag, replay_lsn = cursor.fetchone()
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
    return {
        "alias": alias,
        "ok": True,
        "in_recovery": True,
        "lag_seconds": round(float(lag), 3),
        "replay_lsn": None if replay_lsn is None else int(replay_lsn),
    }


class ReplicaSelector:
    """Picks the replica alias for a read, or None for the primary. One per process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._states: dict[str, ReplicaState] = {}
        self._lock = threading.Lock()
        self._clock = clock

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
        now = self._clock()
        if now < state.down_until:
            return False
        if now >= state.next_check:
            state.next_check = now + settings.REPLICA_CHECK_SECONDS
            failures = state.failures
            measured = replica_state(alias)
            if not measured["ok"]:
                # Connecting may already have marked it down (the backend falls back to the
                # primary): one failed check is one failure, not two.
                if state.failures == failures:
                    self.mark_down(alias, reason=f"check failed: {measured['error']}")
                return False
            state.lag_seconds = measured["lag_seconds"]
            state.failures = 0  # healthy again: the next outage's back-off starts from the bottom
            self.saw_replay(alias, measured["replay_lsn"])
        return state.lag_seconds is not None and state.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS

    def mark_down(self, alias: str, *, reason: str) -> None:
        """Stop using the replica for a back-off that doubles with each consecutive failure,
        from REPLICA_RETRY_SECONDS to REPLICA_RETRY_MAX_SECONDS. A failure long after the
        previous one (no failure for REPLICA_RETRY_MAX_SECONDS after its back-off ended)
        counts from one again."""
        state = self.state(alias)
        now = self._clock()
        if state.failures and now >= state.down_until + settings.REPLICA_RETRY_MAX_SECONDS:
            state.failures = 0
        state.failures += 1
        backoff = min(settings.REPLICA_RETRY_MAX_SECONDS, settings.REPLICA_RETRY_SECONDS * 2 ** (state.failures - 1))
        state.down_until = now + backoff
        state.next_check = state.down_until
        state.lag_seconds = None
        # Maybe another server when it answers again (rebuilt, restored): forget its position.
        state.replay_lsn = None
        logger.warning("replica %s unavailable (%s); reads go to the primary for %.1f s", alias, reason, backoff)

    def saw_replay(self, alias: str, replay_lsn: int | None) -> None:
        """Remember the replica's replay position (bytes into the WAL), just read from it."""
        if replay_lsn is None:
            return
        state = self.state(alias)
        if state.replay_lsn is None or replay_lsn > state.replay_lsn:
            state.replay_lsn = replay_lsn
        state.replay_seen = self._clock()

    def known_replay(self, alias: str, max_age: float) -> int | None:
        """The replay position seen in the last `max_age` seconds (a lower bound), if any."""
        state = self.state(alias)
        if state.replay_lsn is None or self._clock() - state.replay_seen > max_age:
            return None
        return state.replay_lsn


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
