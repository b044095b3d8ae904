"""Health endpoints for load balancers and orchestrators. No authentication, no metrics."""

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fithub.db.replicas import replica_state
from fithub.db.router import PRIMARY
from fithub.ops import shared_cache


@never_cache
@require_GET
def live(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    """Ready when the primary answers (503 otherwise); each replica's state and lag are reported,
    and the shared cache's. The cache down is `degraded`, still ready (200): the instance
    serves without it (fithub/ops/shared_cache.py)."""
    primary = primary_state()
    replicas = [replica_state(alias) for alias in settings.DATABASE_REPLICAS]
    cache = shared_cache.health()
    status = "unavailable" if not primary["ok"] else "ok" if cache["ok"] else "degraded"
    body = {"status": status, "primary": primary, "replicas": replicas, "cache": cache}
    return JsonResponse(body, status=200 if primary["ok"] else 503)


def primary_state() -> dict:
    """Whether the primary answers `SELECT 1`. A connection kept from an earlier request may
    have died with a primary that has restarted since: then the question is asked once more,
    on a new connection, and only its answer counts."""
    connection = connections[PRIMARY]
    retry = connection.connection is not None and not connection.in_atomic_block
    while True:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError as exc:
            connection.close()
            if not (retry and isinstance(exc, OperationalError | InterfaceError)):
                return {"ok": False, "error": exc.__class__.__name__}
            retry = False
        else:
            return {"ok": True}
