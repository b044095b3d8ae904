"""Health endpoints for load balancers and orchestrators. No authentication, no metrics."""

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fithub.db_router import PRIMARY

_REPLICA_STATE_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""


@never_cache
@require_GET
def live(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def replica_state(alias: str) -> dict:
    """Whether the replica answers, whether it is a standby, and its replay lag in seconds."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(_REPLICA_STATE_SQL)
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        connections[alias].close()
        return {"alias": alias, "ok": False, "error": exc.__class__.__name__}
    return {"alias": alias, "ok": True, "in_recovery": bool(in_recovery), "lag_seconds": round(float(lag), 3)}


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
