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

The counter is `fithub.ops.shared_cache.count`. When the shared cache is unavailable each
process counts for itself (`LocalCounters`) and allows its share of the rate: the rate
divided by INSTANCE_WORKERS, the instance's gunicorn workers (fithub/ops/gunicorn_conf.py),
so an instance as a whole still allows about the rate; each such decision counts in
`fithub_cache_fail_open_total{purpose="throttle"}`.

Scopes, rates (DEFAULT_THROTTLE_RATES) and whom a request counts against stay DRF's.
Windows are staggered per identity so they do not all reset at once; a fixed window may
let up to twice the rate through across a boundary, which budgets this coarse allow.

Each throttle notes what it counted on the request (`Quota`); the RateLimit-Policy and
RateLimit response headers (fithub.api.middleware.RateLimitHeadersMiddleware) tell the
client the tightest of them, at no extra cache round trip.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from rest_framework import throttling

from fithub.ops import shared_cache


class LocalCounters:
    """Fixed-window counters in this process, for while the shared cache is unavailable."""

    def __init__(self, max_keys: int = 10_000):
        self.max_keys = max_keys
        self._counts: dict[str, tuple[int, float]] = {}  # key: (count, expires at, monotonic)

    def hit(self, key: str, seconds: int) -> int:
        now = time.monotonic()
        count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            count, expires = 0, now + seconds
            if len(self._counts) >= self.max_keys:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                if len(self._counts) >= self.max_keys:
                    self._counts.clear()
        self._counts[key] = (count + 1, expires)
        return count + 1

    def clear(self) -> None:
        self._counts.clear()


local_counters = LocalCounters()


def hit(key: str, seconds: int) -> int | None:
    """Add one to the shared counter `key`, which expires `seconds` after its first hit: the
    count, or None when the shared cache is unavailable."""
    return shared_cache.count(key, seconds, purpose="throttle")


def process_share(num_requests: int) -> int:
    """What one process may allow of a rate while the cache is down: its share of the
    instance's rate (never less than one request)."""
    return max(1, num_requests // settings.INSTANCE_WORKERS)


@dataclass(frozen=True)
class Quota:
    """What one throttle counted for a request: `remaining` of `limit` requests are left in a
    window of `window` seconds that resets in `reset` seconds."""

    policy: str
    limit: int
    window: int
    remaining: int
    reset: int


_QUOTAS = "_fithub_quotas"


def quotas(request) -> list[Quota]:
    """The quotas the throttles counted for this request (a Django or DRF request)."""
    return getattr(getattr(request, "_request", request), _QUOTAS, [])


def tightest(found: list[Quota]) -> Quota | None:
    """The quota with the fewest requests left; of equals, the one that resets last (so
    that a refused request's RateLimit agrees with its Retry-After, the longest wait)."""
    return min(found, key=lambda quota: (quota.remaining, -quota.reset), default=None)


def _note(request, quota: Quota) -> None:
    http_request = getattr(request, "_request", request)
    found = getattr(http_request, _QUOTAS, None)
    if found is None:
        found = []
        setattr(http_request, _QUOTAS, found)
    found.append(quota)


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
        window_key, seconds = f"{key}:{window}", self.duration + 1
        count = hit(window_key, seconds)
        if count is None:  # the cache is down: this process's share of the rate
            count, self.limit = local_counters.hit(window_key, seconds), process_share(self.num_requests)
        else:
            self.limit = self.num_requests
        self.count = count
        self.seconds_left = max(1, math.ceil((window + 1) * self.duration - offset - now))
        remaining = max(0, self.limit - self.count)
        _note(request, Quota(self.scope, self.limit, self.duration, remaining, self.seconds_left))
        return self.count <= self.limit

    @property
    def refused_first(self) -> bool:
        """Whether this request is the first its window refused (one audit event per window)."""
        return getattr(self, "count", 0) == getattr(self, "limit", self.num_requests) + 1

    def wait(self) -> float:
        return self.seconds_left


class AnonRateThrottle(CounterRateThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CounterRateThrottle, throttling.UserRateThrottle):
    pass
