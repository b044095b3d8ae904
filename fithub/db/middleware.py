"""Request-wide middleware of our own."""

import logging

from fithub.db.router import pin_user_to_primary, routing_scope

logger = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PrimaryForUnsafeMethodsMiddleware:
    """Keeps reads on the primary where a replica could answer with stale data.

    A request that writes reads from the primary for its whole duration: DRF's PATCH reads
    the object before writing it, and from a lagging replica it would write back stale
    data; login straight after signup must find the new user. After a successful write,
    the user is pinned to the primary for a few seconds across requests and instances
    (see fithub.db.router.pin_user_to_primary and fithub.api.authentication). The pin
    comes after the write committed: it never turns the write's answer into an error.
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
                    pin_user_to_primary(user.pk)
                except Exception:  # the write has committed: its answer stands
                    logger.exception("could not pin a user's reads to the primary after a write")
        return response
