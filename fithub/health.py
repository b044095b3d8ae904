"""Health endpoints for load balancers and orchestrators. No authentication, no metrics."""

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fithub.db_router import PRIMARY, REPLICA_LAG_SQL


@never_cache
@require_GET
def live(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def replica_state(alias: str) -> dict:
    """Whether the replica answers, whether it is a standby, and its replay lag in seconds."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[alias].close()
        return {"alias": alias, "ok": False, "error": exc.__class__.__name__}
    if not in_recovery:
        # The replica backend fell back to the primary: the replica itself is unreachable.
        connections[alias].close()
        return {"alias": alias, "ok": False, "error": "unreachable; reads fall back to the primary"}
    return {"alias": alias, "ok": True, "in_recovery": True, "lag_seconds": round(float(lag), 3)}


@never_cache
@require_GET
def ready(request):
    """Ready when the primary answers (503 otherwise); each replica's state and lag are reported."""
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT 1")
        primary = {"ok": True}
    except DatabaseError as exc:
        connections[PRIMARY].close()
        primary = {"ok": False, "error": exc.__class__.__name__}
    replicas = [replica_state(alias) for alias in settings.DATABASE_REPLICAS]
    body = {"status": "ok" if primary["ok"] else "unavailable", "primary": primary, "replicas": replicas}
    return JsonResponse(body, status=200 if primary["ok"] else 503)
