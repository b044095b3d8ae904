"""Send writes to the primary and reads to a streaming replica that is up and fresh.

Reads stay on the primary when a replica could give a stale answer that matters:
- inside an atomic block (a read that decides a write);
- for the whole of a request that writes (POST, PUT, PATCH, DELETE), so such a request
  always reads its own writes (`fithub.db.middleware.PrimaryForUnsafeMethodsMiddleware`);
- after a user wrote, until the chosen replica has replayed the write's WAL position,
  across requests and instances (`fithub.db.read_your_writes`, kept in the shared cache);
- while the shared cache is unavailable (`fithub.ops.shared_cache.available()`): the write
  positions cannot be written or read then, and the primary is the reader that cannot be
  stale.

Work that must read one consistent state (a page of the sync feed) chooses its server once
and routes every read of the block there (`reads_from`).

Which replica serves a read is `fithub.db.replicas.replica_selector`'s choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from fithub.db import read_your_writes
from fithub.db.replicas import replica_selector
from fithub.ops import metrics, shared_cache

PRIMARY = DEFAULT_DB_ALIAS

_use_primary: ContextVar[bool] = ContextVar("fithub_use_primary", default=False)
_reads_from: ContextVar[str | None] = ContextVar("fithub_reads_from", default=None)


@contextlib.contextmanager
def routing_scope(*, primary: bool) -> Iterator[None]:
    """A scope (a request) whose reads start on the primary or not; whatever the scope pins
    with pin_current_context_to_primary() or read_your_writes.require_replayed() ends with it."""
    token = _use_primary.set(primary)
    try:
        with read_your_writes.scope():
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


@contextlib.contextmanager
def reads_from(alias: str) -> Iterator[None]:
    """Route every read in this block to `alias`, the server a caller chose once for work that
    must read one consistent state (a page of the sync feed, in one transaction there)."""
    token = _reads_from.set(alias)
    try:
        yield
    finally:
        _reads_from.reset(token)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        chosen = _reads_from.get()
        if chosen is not None:
            metrics.record_read("primary" if chosen == PRIMARY else "replica")
            return chosen
        if _use_primary.get() or connections[PRIMARY].in_atomic_block or not shared_cache.available():
            metrics.record_read("primary")
            return PRIMARY
        replica = replica_selector.choose()
        if replica is None:
            if settings.DATABASE_REPLICAS:
                # Meant for a replica, but none is up and fresh enough.
                metrics.record_replica_fallback()
            metrics.record_read("primary")
            return PRIMARY
        if not read_your_writes.fresh_enough(replica):
            # The user wrote and this replica has not replayed it yet: the rest of the request
            # reads from the primary (one consistent view, no further checks).
            _use_primary.set(True)
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
