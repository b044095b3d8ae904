"""Throttles count in fixed windows: one small counter per identity, whatever the traffic,
in local memory and in a real (throwaway) Redis as in production."""

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from fithub.api import throttling
from fithub.api.throttling import AnonRateThrottle, UserRateThrottle
from harness.servers import redis_server
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture(params=["locmem", "redis"])
def backend(request, settings):
    """The throttles on each cache backend: local memory, then a real Redis."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
        redis.Redis.from_url(url).flushdb()
    return request.param


def _request(user=None) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/diary/", REMOTE_ADDR="203.0.113.9"))
    if user is not None:
        request.user = user
    return request


def _counters(backend: str) -> list:
    if backend == "redis":
        client = redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
        return [(int(client.get(key)), client.ttl(key)) for key in client.keys("*")]
    return [(cache.get(key.split(":", 2)[-1]), None) for key in cache._cache]  # LocMemCache keys: ":1:<key>"


@pytest.mark.parametrize(("throttle_class", "user"), [(UserRateThrottle, True), (AnonRateThrottle, False)])
def test_the_rate_is_enforced_and_the_wait_is_the_rest_of_the_window(backend, throttle_rates, throttle_class, user):
    throttle_rates(user="5/min", anon="5/min")
    request = _request(UserFactory() if user else None)
    allowed = [throttle_class().allow_request(request, view=None) for _ in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    throttle = throttle_class()
    assert not throttle.allow_request(request, view=None)
    assert 1 <= throttle.wait() <= 60


def test_the_state_is_one_integer_that_expires_however_many_requests(backend, throttle_rates):
    throttle_rates(user="100000/min")
    request = _request(UserFactory())
    for _ in range(500):
        assert UserRateThrottle().allow_request(request, view=None)
    ((count, ttl),) = _counters(backend)
    assert count == 500
    if backend == "redis":
        assert 0 < ttl <= 61


def test_users_count_separately(backend, throttle_rates):
    throttle_rates(user="2/min")
    first, second = _request(UserFactory()), _request(UserFactory())
    assert [UserRateThrottle().allow_request(first, view=None) for _ in range(3)] == [True, True, False]
    assert UserRateThrottle().allow_request(second, view=None)


def test_a_new_window_starts_a_new_count(backend, throttle_rates, monkeypatch):
    throttle_rates(user="1/min")
    request = _request(UserFactory())
    now = 1_800_000_000.0
    monkeypatch.setattr(throttling.time, "time", lambda: now)
    assert UserRateThrottle().allow_request(request, view=None)
    throttle = UserRateThrottle()
    assert not throttle.allow_request(request, view=None)
    now += throttle.wait()
    assert UserRateThrottle().allow_request(request, view=None)
