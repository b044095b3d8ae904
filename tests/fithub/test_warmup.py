"""A new gunicorn worker builds what its first request would before it accepts
(fithub/ops/warmup.py, run by fithub/ops/gunicorn_conf.py's post_worker_init)."""

import gc

import pytest
from django.db import connections
from django.urls import clear_url_caches, get_resolver
from prometheus_client import REGISTRY
from rest_framework.settings import api_settings

from apps.nutrition import selectors
from fithub.db.statements import CachedQuery
from fithub.ops.warmup import freeze_heap, warm

pytestmark = pytest.mark.django_db(databases="__all__")

REQUESTS = "django_http_requests_before_middlewares_total"


def test_warm_builds_the_resolver_drf_settings_serializers_and_connections():
    clear_url_caches()
    api_settings.reload()
    for alias in connections:
        connections[alias].close()
    counted = REGISTRY.get_sample_value(REQUESTS)

    done = warm()

    resolver = get_resolver()
    assert "url_patterns" in resolver.__dict__
    assert resolver._populated
    assert set(api_settings.defaults) <= api_settings._cached_attrs
    assert connections["default"].connection is not None
    assert done["views"] > 50
    assert done["serializers"] > 5
    assert done["schema_bytes"]["application/vnd.oai.openapi+json"] > 100_000  # built before the fork
    assert set(done["databases"].values()) == {"ok"}
    # The common search shapes, compiled on every database (in gunicorn's master, before the fork).
    assert done["statements"] == dict.fromkeys(connections, len(list(selectors._common_search_pages())))
    # Its requests go round the middleware: the metrics count clients' requests only.
    assert REGISTRY.get_sample_value(REQUESTS) == counted


def _compiling_fails(self, shape, alias, values):
    raise AssertionError(f"compiled {shape!r} on {alias} during a request")


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_after_the_warm_up_a_search_compiles_nothing(monkeypatch, client, auth_client, signed_in):
    """The shapes `warm()` compiles are the ones the search box sends: one to three words, a
    last word being typed, typos; the first page, for a caller signed in or not."""
    selectors._SEARCH_PAGE._local.__dict__.clear()  # nothing left compiled by other tests
    warm()
    monkeypatch.setattr(CachedQuery, "_compile", _compiling_fails)
    caller = auth_client if signed_in else client
    for query in ("oats", "rolled oats", "whole wheat bread", "oats m", "otas", "rolld otas"):
        response = caller.get("/api/v1/foods/", {"search": query})
        assert response.status_code == 200, response.content[:300]


def test_a_search_shape_nobody_warmed_is_compiled_on_first_use(monkeypatch, client):
    selectors._SEARCH_PAGE._local.__dict__.clear()
    warm()
    monkeypatch.setattr(CachedQuery, "_compile", _compiling_fails)
    with pytest.raises(AssertionError, match="compiled"):
        client.get("/api/v1/foods/", {"search": "oats", "page": 2})


def test_freeze_heap_takes_what_lives_now_out_of_the_collectors_sight():
    """What a worker inherits and keeps stays out of its full collections (fithub/ops/warmup.py)."""
    kept = [[index] for index in range(1000)]
    try:
        frozen = freeze_heap()
        assert frozen == gc.get_freeze_count() > len(kept)
        walked = {id(item) for item in gc.get_objects()}  # every generation a collection walks
        assert all(gc.is_tracked(item) and id(item) not in walked for item in kept)
    finally:
        gc.unfreeze()
