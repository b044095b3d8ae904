"""FitHub's own Prometheus metrics, beside django-prometheus's request, latency and database ones.

Under gunicorn every worker is a separate process: with PROMETHEUS_MULTIPROC_DIR set (see
fithub/ops/gunicorn_conf.py) the counters below live in per-process files in that directory, and
`registry()` sums all of them, so one scrape of `/metrics` (`fithub.views.metrics`) reports
the whole instance.

Call the `record_*` functions from the code that does the work:

- `record_diary_entries_logged(count)` when diary entries are written (count of rows),
- `record_read(target)` for each read the router sends to "replica" or "primary",
- `record_replica_fallback()` when a read meant for a replica goes to the primary because
  the replica is down or lagging,
- `record_delete(model)` when the API deletes a row (OwnedModelViewSet, account deletion),
- `record_cache_failure(purpose)` when a call to the shared cache raised or timed out, and
  `record_cache_fail_open(purpose)` for each decision then taken without it (the failed
  call's, and each call skipped while the breaker is open): fithub/ops/shared_cache.py.

Failed logins are counted here through Django's `user_login_failed` signal (simplejwt's
token view calls `authenticate()`, which sends it). django-prometheus's model counters
(`django_model_inserts_total`, `_updates_total`, label `model` such as "users.user") count
every model through `post_save`, so models need no `ExportModelOperationsMixin` (adding it
would count twice); bulk operations (`bulk_create`, `QuerySet.update`) send no signals and
are not counted. `_deletes_total` counts the deletes the API makes (`record_delete`), not
through `post_delete`: a receiver for every model would stop Django from deleting in bulk
(each cascaded or filtered delete would first SELECT every row, to signal it: two seconds
to delete an account with ten years of diary). The replica lag
gauge is not stored: it is measured on each scrape (`fithub.db.replicas.ReplicaLagCollector`).
"""

from __future__ import annotations

import os
from typing import Literal

from django.apps import apps
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django_prometheus.models import model_deletes, model_inserts, model_updates
from prometheus_client import REGISTRY, CollectorRegistry, Counter, multiprocess

ReadTarget = Literal["replica", "primary"]
READ_TARGETS: tuple[ReadTarget, ...] = ("replica", "primary")

DIARY_ENTRIES_LOGGED = Counter("fithub_diary_entries_logged", "Diary entries written (one per row).")
LOGINS_FAILED = Counter("fithub_logins_failed", "Login attempts refused for wrong credentials.")
DB_READS = Counter("fithub_db_reads", "Reads routed by the database router, by target server.", labelnames=["target"])
REPLICA_FALLBACKS = Counter(
    "fithub_replica_fallbacks", "Reads meant for a replica that were served by the primary instead."
)
# What the shared cache serves, and what a caller does without it (fithub/ops/shared_cache.py).
CACHE_PURPOSES = (
    "auth",  # a session's state and the last write position: the database decides, reads go to the primary
    "session_mark",  # remembering a session alive or ended: skipped, the database decides
    "pin",  # remembering a user's write position (read-your-writes): skipped, reads go to the primary anyway
    "throttle",  # a throttle's counter: counted in this process, at its share of the rate
    "health",  # the readiness check: the cache is reported down
)
CACHE_FAILURES = Counter(
    "fithub_cache_failures", "Calls to the shared cache that raised or timed out, by purpose.", labelnames=["purpose"]
)
CACHE_FAIL_OPEN = Counter(
    "fithub_cache_fail_open",
    "Decisions taken without the shared cache (a failed call, or one the open breaker skipped), by purpose.",
    labelnames=["purpose"],
)
_CACHE_FAILURES = {purpose: CACHE_FAILURES.labels(purpose=purpose) for purpose in CACHE_PURPOSES}
_CACHE_FAIL_OPEN = {purpose: CACHE_FAIL_OPEN.labels(purpose=purpose) for purpose in CACHE_PURPOSES}
# Both targets exist from the start (at 0): a dashboard then shows 0 rather than no data.
# The children are kept: record_read runs on every routed query.
_READS_BY_TARGET = {target: DB_READS.labels(target=target) for target in READ_TARGETS}


def record_diary_entries_logged(count: int = 1) -> None:
    DIARY_ENTRIES_LOGGED.inc(count)


def record_read(target: ReadTarget) -> None:
    _READS_BY_TARGET[target].inc()


def record_replica_fallback() -> None:
    REPLICA_FALLBACKS.inc()


def record_cache_failure(purpose: str) -> None:
    _CACHE_FAILURES[purpose].inc()


def record_cache_fail_open(purpose: str) -> None:
    _CACHE_FAIL_OPEN[purpose].inc()


@receiver(user_login_failed, dispatch_uid="fithub.ops.metrics.count_failed_login")
def _count_failed_login(sender, credentials=None, request=None, **kwargs) -> None:
    LOGINS_FAILED.inc()


def _model_label(model) -> str:
    # A proxy (the request's TokenUser) counts as the model whose table it writes.
    return model._meta.concrete_model._meta.label_lower


@receiver(post_save, dispatch_uid="fithub.ops.metrics.count_model_save")
def _count_model_save(sender, created=False, raw=False, **kwargs) -> None:
    if raw:  # loaddata
        return
    (model_inserts if created else model_updates).labels(_model_label(sender)).inc()


def record_delete(model) -> None:
    model_deletes.labels(_model_label(model)).inc()


def start_model_series_at_zero() -> None:
    """FitHub's own models appear at 0 rather than on their first write. Run again in a
    worker forked from a preloaded master: the write of 0 makes the worker's own files."""
    for model in apps.get_models():
        if model.__module__.startswith(("apps.", "fithub.")) and not model._meta.proxy:
            for counter in (model_inserts, model_updates, model_deletes):
                counter.labels(_model_label(model)).inc(0)


def registry() -> CollectorRegistry:
    """The instance's registry: every worker's files under PROMETHEUS_MULTIPROC_DIR, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY
