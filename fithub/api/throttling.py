"""Throttles as fixed-window counters in the shared cache: one round trip per throttle.

DRF's SimpleRateThrottle keeps the time of every request of the window in one cache value
that each request reads, unpickles and writes back: at the IP budget of 6000/min that is
up to 6000 floats each way, on every request from a busy address (a carrier NAT, a load
test). Here each identity has one integer per window. On Redis (production) a hit is
INCR plus EXPIRE NX in one pipeline: one round trip. django-ratelimit does the same
counting through Django's cache API, where `add` + `incr` cost three round trips on
Redis (Django's `incr` checks the key exists first), and every request passes two
throttles; hence this small counter rather than the library. Other caches (local memory
in development and tests) use `add` + `incr`.

Scopes, rates (DEFAULT_THROTTLE_RATES) and whom a request counts against stay DRF's.
Windows are staggered per identity so they do not all reset at once; a fixed window may
let up to twice the rate through across a boundary, which budgets this coarse allow.
"""

from __future__ import annotations

import math
import time
import zlib

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework import throttling

_redis: redis.Redis | None = None


def _redis_client() -> redis.Redis | None:
    """A client for the cache's Redis, made once per process (after gunicorn's fork)."""
    global _redis
    config = settings.CACHES["default"]
    if not config["BACKEND"].endswith(".RedisCache"):
        return None
    if _redis is None:
        location = config["LOCATION"]
        _redis = redis.Redis.from_url(location if isinstance(location, str) else location[0])
    return _redis


def hit(key: str, seconds: int) -> int:
    """Add one to the counter `key`, which expires `seconds` after its first hit; the count."""
    client = _redis_client()
    if client is not None:  # EXPIRE ... NX: Redis 7
        full_key = cache.make_key(key)
        with client.pipeline(transaction=False) as pipe:
            count, _ = pipe.incr(full_key).expire(full_key, seconds, nx=True).execute()
        return count
    if cache.add(key, 1, seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1


class CounterRateThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's scope, rate and identity, counted in fixed windows."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        offset = zlib.crc32(key.encode()) % self.duration
        window = int((now + offset) // self.duration)
        self.count = hit(f"{key}:{window}", self.duration + 1)
        self.seconds_left = max(1, math.ceil((window + 1) * self.duration - offset - now))
        return self.count <= self.num_requests

    @property
    def refused_first(self) -> bool:
        """Whether this request is the first its window refused (one audit event per window)."""
        return getattr(self, "count", 0) == self.num_requests + 1

    def wait(self) -> float:
        return self.seconds_left


class AnonRateThrottle(CounterRateThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CounterRateThrottle, throttling.UserRateThrottle):
    pass
