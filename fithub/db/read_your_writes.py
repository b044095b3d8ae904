"""Read-your-writes by WAL position: after a user writes, their reads go to a replica only
once it has replayed the write.

- After a request that wrote (a successful POST, PUT, PATCH or DELETE of an authenticated
  user: `fithub.db.middleware`), `remember_write(user_id)` asks the primary for its WAL
  insert position, one query after the commit: it is at or past the end of the request's
  commit record (the write position, `pg_current_wal_lsn()`, can trail it while
  `synchronous_commit=off`). The position is kept in the shared cache under
  `position_key(user_id)` for READ_YOUR_WRITES_SECONDS (60: a replica that far behind is
  skipped as lagging anyway), so it holds across requests and instances.
- The JWT authentication reads that key in the round trip that reads the session's state
  anyway, and gives the position to `require_replayed()` for the rest of the request
  (`fithub.api.authentication`). A user with no remembered write costs nothing more.
- The router then asks `replica_has_replayed(alias, position)` for the replica it chose:
  yes without a query when the replay position this process saw last (read by the
  selector's lag check in its own query, or by an earlier call here) is recent
  (REPLAY_POSITION_SECONDS) and already past it; otherwise one query on that replica,
  `pg_last_wal_replay_lsn()`, whose answer is remembered (not when the lag check has just
  read it). When the replica has not replayed the write, the rest of the request reads from
  the primary.

Without the shared cache nothing is remembered or read, and every read goes to the primary
(`fithub.db.router`). If the primary cannot say its position after a write, the user's
reads stay on the primary until the position expires. Two writes of one user in flight at
once on two instances: the position stored last wins, which may be the earlier one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from fithub.db.replicas import replica_selector
from fithub.ops import metrics, shared_cache

logger = logging.getLogger(__name__)

# WAL positions as bytes from the start (`pg_lsn - '0/0'`): plain integers to compare.
PRIMARY_POSITION_SQL = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn"
REPLAY_POSITION_SQL = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn"  # NULL on a primary
# Remembered when the primary cannot say where it is: no replica ever passes it.
UNKNOWN_POSITION = 2**64 - 1
# A replay position seen in this process is trusted this long as a lower bound of the
# replica's (it only grows; a replica that fails is forgotten: ReplicaSelector.mark_down).
REPLAY_POSITION_SECONDS = 5.0
# One read a moment ago is the replica's current position: not asked again.
JUST_READ_SECONDS = 0.05

# The WAL position this request's user last wrote at, when the shared cache remembers one.
_required_position: ContextVar[int | None] = ContextVar("fithub_required_position", default=None)


def position_key(user_id) -> str:
    """The shared-cache key of the WAL position after the user's last write."""
    return f"fithub:written-lsn:{user_id}"


def primary_position() -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(PRIMARY_POSITION_SQL)
        return int(cursor.fetchone()[0])


def remember_write(user_id) -> None:
    """After the user's write committed: their next reads need a replica that has replayed
    the primary's current position. Skipped without replicas or without the cache (reads
    then go to the primary anyway)."""
    if not settings.DATABASE_REPLICAS:
        return
    if not shared_cache.available():  # not worth the primary's position: counted as skipped
        metrics.record_cache_fail_open("pin")
        return
    try:
        position = primary_position()
    except DatabaseError as exc:
        logger.warning("could not read the primary's WAL position after a write (%r)", exc)
        position = UNKNOWN_POSITION
    shared_cache.set_value(position_key(user_id), position, timeout=settings.READ_YOUR_WRITES_SECONDS, purpose="pin")


def require_replayed(position) -> None:
    """The rest of this request reads from a replica only once it has replayed `position`
    (a value from the shared cache: anything but an integer means the primary)."""
    _required_position.set(position if isinstance(position, int) else UNKNOWN_POSITION)


def required_position() -> int | None:
    return _required_position.get()


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """A request: what require_replayed() set ends with it."""
    token = _required_position.set(None)
    try:
        yield
    finally:
        _required_position.reset(token)


def replica_has_replayed(alias: str, position: int) -> bool:
    """Whether the replica has replayed the WAL up to `position`: from the position this
    process saw last when recent and past it, else with one query on the replica."""
    known = replica_selector.known_replay(alias, REPLAY_POSITION_SECONDS)
    if known is not None and known >= position:
        return True
    if position == UNKNOWN_POSITION or replica_selector.known_replay(alias, JUST_READ_SECONDS) is not None:
        return False  # never passed, or read a moment ago (by this read's lag check): no new answer
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(REPLAY_POSITION_SQL)
            replayed = cursor.fetchone()[0]
    except DatabaseError:
        # The backend answered from the primary or failed: not a replica's answer.
        return False
    if replayed is None:  # the alias fell back to the primary (the replica is down)
        return False
    replica_selector.saw_replay(alias, int(replayed))
    return int(replayed) >= position


def fresh_enough(alias: str) -> bool:
    """Whether the replica can serve this request's reads: always for a user with no
    remembered write."""
    position = _required_position.get()
    return position is None or replica_has_replayed(alias, position)
