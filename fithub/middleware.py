"""Request-wide middleware of our own."""

from fithub.db_router import use_primary

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PrimaryForUnsafeMethodsMiddleware:
    """A request that writes reads from the primary for its whole duration.

    DRF's PATCH reads the object before writing it; from a lagging replica it would write
    back stale data. Login straight after signup must also find the new user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in UNSAFE_METHODS:
            with use_primary():
                return self.get_response(request)
        return self.get_response(request)
