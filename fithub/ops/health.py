"""Health endpoints for load balancers and orchestrators. No authentication, no metrics."""

from django.conf import settings
from django.db import DatabaseError, connections
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
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT 1")
        primary = {"ok": True}
    except DatabaseError as exc:
        connections[PRIMARY].close()
        primary = {"ok": False, "error": exc.__class__.__name__}
    replicas = [replica_state(alias) for alias in settings.DATABASE_REPLICAS]
    cache = shared_cache.health()
    status = "unavailable" if not primary["ok"] else "ok" if cache["ok"] else "degraded"
    body = {"status": status, "primary": primary, "replicas": replicas, "cache": cache}
    return JsonResponse(body, status=200 if primary["ok"] else 503)
