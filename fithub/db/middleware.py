"""Request-wide middleware of our own."""

import logging

from fithub.db.read_your_writes import remember_write
from fithub.db.router import routing_scope

logger = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PrimaryForUnsafeMethodsMiddleware:
    """Keeps reads on the primary where a replica could answer with stale data.

    A request that writes reads from the primary for its whole duration: DRF's PATCH reads
    the object before writing it, and from a lagging replica it would write back stale
    data; login straight after signup must find the new user. After a successful write,
    the primary's WAL position is remembered for the user: their next reads, on any
    instance, use a replica only once it has replayed it (fithub.db.read_your_writes).
    That comes after the write committed: it never turns the write's answer into an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        unsafe = request.method in UNSAFE_METHODS
        with routing_scope(primary=unsafe):
            response = self.get_response(request)
        if unsafe and response.status_code < 400:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                try:
                    remember_write(user.pk)
                except Exception:  # the write has committed: its answer stands
                    logger.exception("could not remember a user's write position")
        return response
