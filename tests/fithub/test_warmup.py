"""A new gunicorn worker builds what its first request would before it accepts
(fithub/ops/warmup.py, run by fithub/ops/gunicorn_conf.py's post_worker_init)."""

import pytest
from django.db import connections
from django.urls import clear_url_caches, get_resolver
from prometheus_client import REGISTRY
from rest_framework.settings import api_settings

from fithub.ops.warmup import warm

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
    # Its requests go round the middleware: the metrics count clients' requests only.
    assert REGISTRY.get_sample_value(REQUESTS) == counted
