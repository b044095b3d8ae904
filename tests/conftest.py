import os

# Before Django is configured: a test secret and a fast password hasher (PBKDF2 at a
# million rounds costs 0.3 s a login). `make test` sets the same.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-of-at-least-32-bytes")
os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.users.factories import UserFactory


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("replica") is None:
            continue
        item.add_marker(pytest.mark.django_db(transaction=True, databases="__all__"))


@pytest.fixture(autouse=True)
def _isolated_state(request, settings):
    """A clean cache (throttles) and a closed cache breaker for every test, and reads on the
    primary unless the test is about replica routing: inside a test transaction a replica
    sees no data."""
    from fithub.api.throttling import local_counters
    from fithub.ops.shared_cache import breaker

    breaker.reset()
    local_counters.clear()
    cache.clear()
    if request.node.get_closest_marker("replica") is None:
        settings.DATABASE_REPLICAS = []
    yield
    cache.clear()
    breaker.reset()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


def tokens_for(user, **device):
    """The token pair of a new session of the user's, as a login gives (without the password)."""
    from apps.users.services import start_session

    return start_session(user=user, **device)


def access_token_for(user) -> str:
    return tokens_for(user).access


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def throttle_rates(monkeypatch):
    """Set throttle rates for one test: throttle_rates(login_ip="2/min")."""
    from rest_framework.throttling import SimpleRateThrottle

    def apply(**rates):
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **rates})

    return apply


@pytest.fixture
def builtin_types(db):
    """The built-in measurement types by key. The migration seeds them; transactional tests
    flush the tables, so they are put back (idempotently) when gone."""
    from apps.measurements.builtins import sync_builtin_types
    from apps.measurements.models import MeasurementType

    sync_builtin_types(MeasurementType)
    return {t.key: t for t in MeasurementType.objects.filter(user__isnull=True)}
