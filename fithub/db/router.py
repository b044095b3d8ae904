"""Send writes to the primary and reads to a streaming replica that is up and fresh.

Reads stay on the primary when a replica could give a stale answer that matters:
- inside an atomic block (a read that decides a write);
- for the whole of a request that writes (POST, PUT, PATCH, DELETE), so such a request
  always reads its own writes (`fithub.db.middleware.PrimaryForUnsafeMethodsMiddleware`);
- for a few seconds after a user wrote, across requests and instances (read-your-writes:
  `pin_user_to_primary`, kept in the shared cache);
- while the shared cache is unavailable (`fithub.ops.shared_cache.available()`): the pins
  cannot be written or read then, and the primary is the reader that cannot be stale.

Which replica serves a read is `fithub.db.replicas.replica_selector`'s choice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from fithub.db.replicas import replica_selector
from fithub.ops import metrics, shared_cache

PRIMARY = DEFAULT_DB_ALIAS

_use_primary: ContextVar[bool] = ContextVar("fithub_use_primary", default=False)


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
    """After a write, this user's reads go to the primary for READ_YOUR_WRITES_SECONDS.
    Skipped when the cache is unavailable (all reads then go to the primary); never raises."""
    seconds = settings.READ_YOUR_WRITES_SECONDS
    if seconds > 0 and settings.DATABASE_REPLICAS:
        shared_cache.set_value(pin_key(user_id), 1, timeout=seconds, purpose="pin")


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
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
        metrics.record_read("replica")
        return replica

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Replicas hold the same data as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == PRIMARY
