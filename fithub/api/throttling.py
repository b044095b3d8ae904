"""Throttles as fixed-window counters in the shared cache: constant work per request.

DRF's SimpleRateThrottle keeps the timestamp of every request of the window in one cache
value that each request reads, unpickles and writes back: at the IP budget of 6000/min
that is up to 6000 floats each way, on every request from a busy address (a carrier NAT,
the bench's loopback). django-ratelimit's counter (`cache.add` then an atomic
`cache.incr`, one key per window, windows staggered per key) costs two small cache
operations instead. Scopes, rates (DEFAULT_THROTTLE_RATES) and whom a request counts
against stay DRF's; a fixed window may let up to twice the rate through across a window
boundary, which budgets this coarse allow.
"""

from django_ratelimit.core import get_usage
from rest_framework import throttling


class CounterRateThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's scope, rate and cache key, counted in fixed windows."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        usage = get_usage(
            request,
            group=self.scope,
            key=lambda group, request: key,
            rate=(self.num_requests, self.duration),
            increment=True,
        )
        if usage is None:  # RATELIMIT_ENABLE = False
            return True
        self.seconds_left = max(usage["time_left"], 1)
        return not usage["should_limit"]

    def wait(self) -> float:
        return self.seconds_left


class AnonRateThrottle(CounterRateThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CounterRateThrottle, throttling.UserRateThrottle):
    pass
