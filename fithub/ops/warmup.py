"""Warm an instance before it accepts requests.

Django imports the URLconf (every view, serializer and DRF class), builds its resolver and
DRF's settings lazily, on the first request: a worker that gunicorn had just started or
recycled made its first client wait for all of it, and an instance that had just started
took connections on its bound port while its workers were still importing (13.6 s of
queued requests when an instance was killed and came back). So the work is split:

- `warm_code()` builds what every worker shares (imports, the resolver, DRF's settings,
  serializers' fields, a 401 through DRF's dispatch, the OpenAPI schema in each format:
  fithub.api.schema_view) and opens no connection. gunicorn's
  master runs it once (preload_app, on_starting), before it binds the port: the port opens
  on a warm instance, and every worker forked from it, recycled or replacing a killed one,
  starts warm.
- `warm_statements()` compiles the common shapes of the hot reads (food search: 10-20 ms of
  CPU a shape; fithub.db.statements) on every database, in the master too: compiling needs
  each server's version, so it opens a connection to each, which `close_connections()`
  closes before the fork. The forks inherit the compiled statements.
- `warm_connections()` opens the worker's own database connections and checks the replica
  lag, after the fork, in each worker (post_worker_init), before it accepts.

`warm()` does all three, for a worker that loaded the app itself (GUNICORN_PRELOAD=0). After
each warm-up `freeze_heap()` takes what was built out of the cyclic garbage collector's
sight. It goes through public interfaces only, so it keeps working whatever the views do
inside; the rest of what a view builds per class on its first real request (other statement
shapes, representation plans) stays lazy and is small.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator

from django.db import DatabaseError, connections
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.settings import api_settings

from fithub.api import schema_view

logger = logging.getLogger(__name__)

# Answered with a 401 (a token whose signature is wrong): a walk through DRF's dispatch, the
# JWT checks, the exception handler and the renderer that reads no data and counts no request
# (no throttle, no middleware: the metrics and logs see only clients' requests).
WARM_PATHS = ("/api/v1/diary/", "/api/v1/diary/summary/", "/api/v1/foods/", "/api/v1/measurements/")
_BAD_TOKEN = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.d2FybS11cA"  # noqa: S105 - a made-up token that never verifies


def _views(patterns) -> Iterator[object]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def _serializer_classes(callback) -> set[type]:
    view = getattr(callback, "cls", None)
    found = set()
    for name in ("serializer_class", "flat_list_serializer_class"):
        serializer = getattr(view, name, None) if view is not None else None
        if isinstance(serializer, type):
            found.add(serializer)
    return found


def warm_code() -> dict:
    """Import and build what the first request would; no connection is opened."""
    done: dict = {}
    resolver = get_resolver()
    callbacks = list(_views(resolver.url_patterns))
    resolver.reverse_dict  # noqa: B018 - populates reverse() and the resolver's lookups
    done["views"] = len(callbacks)

    for name in api_settings.defaults:
        getattr(api_settings, name)  # each setting imports its classes on first read
    serializers = set().union(*(_serializer_classes(callback) for callback in callbacks))
    for serializer in serializers:
        try:
            serializer().fields  # noqa: B018 - the model introspection of a ModelSerializer, its field classes
        except Exception as exc:  # a serializer that needs its view's context: built on first use instead
            logger.debug("not warmed: %s (%r)", serializer.__name__, exc)
    done["serializers"] = len(serializers)

    factory = RequestFactory()
    for path in WARM_PATHS:
        match = resolver.resolve(path)
        match.func(factory.get(path, HTTP_AUTHORIZATION=_BAD_TOKEN), *match.args, **match.kwargs).render()
    done["schema_bytes"] = schema_view.warm()  # built once, in the master: every fork serves it
    return done


def warm_connections() -> dict:
    """Open this process's database connections and check the replicas' lag."""
    from fithub.db.replicas import replica_selector
    from fithub.ops.metrics import start_model_series_at_zero

    databases = {}
    for alias in connections:
        try:
            connections[alias].ensure_connection()
            databases[alias] = "ok"
        except DatabaseError as exc:  # the worker serves anyway; the request path retries and routes around it
            databases[alias] = exc.__class__.__name__
    replica_selector.choose()  # the first replica lag check
    # A worker forked from a preloaded master writes its metrics to files of its own, made
    # on its first write (prometheus_client resets its values when the pid changes): now, so
    # every series is scraped at zero from the start.
    start_model_series_at_zero()
    return {"databases": databases}


def warm_statements() -> dict:
    """Compile the statements' common shapes on each database: how many, per alias (or why
    not: a database that cannot be reached now leaves them to compile on first use)."""
    from fithub.db import statements

    done: dict = {}
    for alias in connections:
        try:
            done[alias] = statements.warm_statements(alias)
        except DatabaseError as exc:
            done[alias] = exc.__class__.__name__
    return done


def freeze_heap() -> int:
    """Collect the garbage, then move every object alive into the permanent generation
    (`gc.freeze()`): returns how many there are. The warmed app is about 130,000 objects the
    cyclic collector tracks, and a worker's full collection walked every one of them on
    whichever request set it off: 90-190 ms measured, the slowest requests of a bench run.
    Frozen in the master after its warm-up (and in each worker after its own), a full
    collection walks only what the worker made since, and the master's pages stay shared
    after the fork (a collection writes into each object it walks). These objects live as
    long as the process anyway; reference counting still frees any that are dropped."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def close_connections() -> None:
    """What the master must not hand to its forks: any database connection it opened."""
    connections.close_all()


def warm() -> dict:
    """All of it: for a worker that loaded the app itself."""
    return {**warm_code(), "statements": warm_statements(), **warm_connections()}
