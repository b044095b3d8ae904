"""Send writes to the primary and reads to a streaming replica.

Reads stay on the primary when the replica could give a stale answer that matters:
inside an atomic block (a read that decides a write), and for the whole of a request that
writes (POST, PUT, PATCH, DELETE), so such a request always reads its own writes.
`fithub.middleware.PrimaryForUnsafeMethodsMiddleware` marks those requests.

Which replica serves a read is decided by `ReplicaSelector.choose()`; it is the one place
that later learns about replica health and lag.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

PRIMARY = DEFAULT_DB_ALIAS

_use_primary: ContextVar[bool] = ContextVar("fithub_use_primary", default=False)


@contextlib.contextmanager
def use_primary() -> Iterator[None]:
    """Route every read in this block (this thread or task) to the primary."""
    token = _use_primary.set(True)
    try:
        yield
    finally:
        _use_primary.reset(token)


def reads_pinned_to_primary() -> bool:
    return _use_primary.get()


class ReplicaSelector:
    """Picks the replica alias for a read, or None for the primary."""

    def choose(self) -> str | None:
        replicas = settings.DATABASE_REPLICAS
        if not replicas:
            return None
        if len(replicas) == 1:
            return replicas[0]
        return random.choice(replicas)  # noqa: S311 - load spreading, not security


replica_selector = ReplicaSelector()


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        if _use_primary.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return replica_selector.choose() or PRIMARY

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Replicas hold the same data as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return db == PRIMARY
