"""The shared cache (Redis in production) as an accelerator, not a dependency: the one place
that calls it and decides what a caller gets when it cannot be reached.

Every caller names its purpose (`metrics.CACHE_PURPOSES`) and gets an answer instead of an
exception when the cache is unavailable: `get_many` and `count` give None, `set_value`, `set_many`
and `add` give False. The caller then does without (fails open where that is safe): the
authentication asks the database whether a session has ended and reads from the primary,
a throttle counts in its process at the process's share of the rate, the read-your-writes
pin is skipped (reads go to the primary while the cache is down: `available()`).

- Each call is bounded by CACHE_TIMEOUT_SECONDS (the connect and socket timeouts in
  CACHES, without retries), so a hung Redis costs a request milliseconds, not a worker.
- A circuit breaker per process: after a failed call, calls for the next
  CACHE_RETRY_SECONDS are skipped without touching the network; the first call after that
  tries again, and closes the breaker if it works or opens it for another interval. The
  interval is fixed: a Redis that comes back is used again within seconds.
- And one per request (`RequestScopeMiddleware`): after a failed call, the rest of the
  request does without the cache even if the process's interval ends meanwhile (a slow
  request on a loaded machine would otherwise pay the timeout again). A hung Redis costs a
  request at most one timeout.
- `fithub_cache_failures_total{purpose}` counts the calls that raised or timed out,
  `fithub_cache_fail_open_total{purpose}` each decision taken without the cache (a failed
  call's, and each call the open breaker skipped).

Idempotency keys are not here: they live in the database, in the transaction of the write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from fithub.ops import metrics

logger = logging.getLogger(__name__)

# What the cache client raises when Redis cannot be reached or does not answer in time
# (redis.TimeoutError and redis.ConnectionError are RedisErrors; socket errors are OSErrors).
CACHE_ERRORS = (redis.RedisError, OSError)

T = TypeVar("T")


class Breaker:
    """Open for CACHE_RETRY_SECONDS after a failure: while open, calls are not attempted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: the last call worked

    def allows(self) -> bool:
        open_until = self._open_until
        return open_until is None or self._clock() >= open_until

    def failed(self) -> bool:
        """Open it (again) for the retry interval; whether it was closed until now."""
        with self._lock:
            was_closed = self._open_until is None
            self._open_until = self._clock() + settings.CACHE_RETRY_SECONDS
        return was_closed

    def succeeded(self) -> bool:
        """Close it; whether it was open until now."""
        with self._lock:
            was_open = self._open_until is not None
            self._open_until = None
        return was_open

    def retry_in(self) -> float:
        open_until = self._open_until
        return 0.0 if open_until is None else max(0.0, open_until - self._clock())

    def reset(self) -> None:
        with self._lock:
            self._open_until = None


breaker = Breaker()


class _Request:
    __slots__ = ("failed",)

    def __init__(self):
        self.failed = False


# The request being served, if any: outside a request only the process's breaker applies.
_request: ContextVar[_Request | None] = ContextVar("fithub_shared_cache_request", default=None)


@contextmanager
def request_scope() -> Iterator[None]:
    """A request: once a call in it has failed, its later calls are skipped."""
    token = _request.set(_Request())
    try:
        yield
    finally:
        _request.reset(token)


class RequestScopeMiddleware:
    """Each request in its own `request_scope()`: a hung Redis costs it one timeout at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_scope():
            return self.get_response(request)


def available() -> bool:
    """Whether the cache is to be used (no failure in the last CACHE_RETRY_SECONDS, nor
    earlier in this request). No I/O."""
    request = _request.get()
    return breaker.allows() and not (request is not None and request.failed)


def _attempt(purpose: str, operation: Callable[[], T], unavailable: T) -> T:
    if not available():
        metrics.record_cache_fail_open(purpose)
        return unavailable
    try:
        result = operation()
    except CACHE_ERRORS as exc:
        request = _request.get()
        if request is not None:
            request.failed = True
        if breaker.failed():
            logger.warning(
                "shared cache unavailable (%s: %r): failing open, next try in %ss",
                purpose,
                exc,
                settings.CACHE_RETRY_SECONDS,
            )
        metrics.record_cache_failure(purpose)
        metrics.record_cache_fail_open(purpose)
        return unavailable
    if breaker.succeeded():
        logger.warning("shared cache answers again (%s)", purpose)
    return result


def _backend():
    return caches["default"]


def get_many(keys: Iterable[str], *, purpose: str) -> dict[str, Any] | None:
    """The values of those keys the cache holds; None when it is unavailable."""
    keys = list(keys)
    return _attempt(purpose, lambda: _backend().get_many(keys), None)


def set_value(key: str, value: Any, *, timeout: float, purpose: str) -> bool:
    """Store a value; False when the cache is unavailable."""
    return _attempt(purpose, lambda: _backend().set(key, value, timeout=timeout) or True, False)


def set_many(values: Mapping[str, Any], *, timeout: float, purpose: str) -> bool:
    """Store several values in one round trip; False when the cache is unavailable."""
    return _attempt(purpose, lambda: not _backend().set_many(dict(values), timeout=timeout), False)


def add(key: str, value: Any, *, timeout: float, purpose: str) -> bool:
    """Store a value unless the key is set; whether it was stored (False when unavailable)."""
    return _attempt(purpose, lambda: _backend().add(key, value, timeout=timeout), False)


def count(key: str, seconds: int, *, purpose: str) -> int | None:
    """Add one to the counter `key`, which expires `seconds` after its first hit: the count,
    or None when the cache is unavailable.

    On Redis, INCR plus EXPIRE NX (Redis 7) in one pipeline: one round trip, on the cache's
    own connection pool (its timeouts). Other caches (local memory) use `add` + `incr`."""
    return _attempt(purpose, lambda: _count(_backend(), key, seconds), None)


def _count(backend, key: str, seconds: int) -> int:
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)  # Django's client and pool
        with client.pipeline(transaction=False) as pipe:
            value, _ = pipe.incr(full_key).expire(full_key, seconds, nx=True).execute()
        return value
    if backend.add(key, 1, seconds):
        return 1
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.add(key, 1, seconds)
        return 1


HEALTH_KEY = "fithub:health"


def health() -> dict[str, Any]:
    """The cache's state for /health/ready/: one round trip, unless the breaker is open."""
    backend = _backend()
    state: dict[str, Any] = {"backend": type(backend).__name__}
    ok = _attempt("health", lambda: backend.get(HEALTH_KEY) is None or True, False)
    state["ok"] = ok
    if not ok:
        state["retry_in_seconds"] = round(breaker.retry_in(), 3)
    return state
