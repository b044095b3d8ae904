"""Send writes to the primary and reads to a streaming replica that is up and fresh.

Reads stay on the primary when a replica could give a stale answer that matters:
- inside an atomic block (a read that decides a write);
- for the whole of a request that writes (POST, PUT, PATCH, DELETE), so such a request
  always reads its own writes (`fithub.middleware.PrimaryForUnsafeMethodsMiddleware`);
- for a few seconds after a user wrote, across requests and instances (read-your-writes:
  `pin_user_to_primary`, kept in the shared cache).

`ReplicaSelector` decides which replica serves a read. It measures each replica's replay
lag at most every REPLICA_CHECK_SECONDS per process and skips replicas lagging more than
REPLICA_MAX_LAG_SECONDS. A replica that fails (at connect or mid-query, see
`fithub.replica_backend`) is marked down and retried after an exponential back-off.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from fithub import metrics

PRIMARY = DEFAULT_DB_ALIAS

logger = logging.getLogger(__name__)

_use_primary: ContextVar[bool] = ContextVar("fithub_use_primary", default=False)

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


@contextlib.contextmanager
def routing_scope(*, primary: bool) -> Iterator[None]:
    """A scope (a request) whose reads start on the primary or not; whatever the scope pins
    with pin_current_context_to_primary() ends with it."""
    token = _use_primary.set(primary)
    try:
        yield
    finally:
        _use_primary.reset(token)


def use_primary() -> contextlib.AbstractContextManager[None]:
    """Route every read in this block (this thread or task) to the primary."""
    return routing_scope(primary=True)


def pin_current_context_to_primary() -> None:
    """Send the rest of this request's reads to the primary (reset by the middleware)."""
    _use_primary.set(True)


def reads_pinned_to_primary() -> bool:
    return _use_primary.get()


def pin_key(user_id) -> str:
    """The shared-cache key that pins a user's reads to the primary (read by the JWT authentication)."""
    return f"fithub:read-your-writes:{user_id}"


def pin_user_to_primary(user_id) -> None:
    """After a write, this user's reads go to the primary for READ_YOUR_WRITES_SECONDS."""
    seconds = settings.READ_YOUR_WRITES_SECONDS
    if seconds > 0 and settings.DATABASE_REPLICAS:
        cache.set(pin_key(user_id), 1, timeout=seconds)


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


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if _use_primary.get() or connections[PRIMARY].in_atomic_block:
            metrics.record_read("primary")
            return PRIMARY
        replica = replica_selector.choose()
        if replica is None:
            if settings.DATABASE_REPLICAS:
                # Meant for a replica, but none is up and fresh enough.
                metrics.record_replica_fallback()
            metrics.record_read("primary")
            return PRIMARY
        metrics.record_read("replica")
        return replica

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Replicas hold the same data as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == PRIMARY
