"""Throttles count in fixed windows: one small counter per key, whatever the traffic."""

import pytest
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from fithub.api.throttling import AnonRateThrottle, UserRateThrottle
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


def _request(user=None) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/diary/", REMOTE_ADDR="203.0.113.9"))
    if user is not None:
        request.user = user
    return request


def _cached_values() -> list:
    return [cache.get(key.split(":", 2)[-1]) for key in cache._cache]  # LocMemCache's keys: ":1:<key>"


@pytest.mark.parametrize(("throttle_class", "user"), [(UserRateThrottle, True), (AnonRateThrottle, False)])
def test_the_rate_is_enforced_and_the_wait_is_the_rest_of_the_window(throttle_rates, throttle_class, user):
    throttle_rates(user="5/min", anon="5/min")
    request = _request(UserFactory() if user else None)
    allowed = [throttle_class().allow_request(request, view=None) for _ in range(7)]
    assert allowed == [True] * 5 + [False] * 2
    throttle = throttle_class()
    assert not throttle.allow_request(request, view=None)
    assert 1 <= throttle.wait() <= 60


def test_the_state_is_one_integer_however_many_requests(throttle_rates):
    throttle_rates(user="100000/min")
    request = _request(UserFactory())
    for _ in range(500):
        assert UserRateThrottle().allow_request(request, view=None)
    assert _cached_values() == [500]


def test_users_count_separately(throttle_rates):
    throttle_rates(user="2/min")
    first, second = _request(UserFactory()), _request(UserFactory())
    assert [UserRateThrottle().allow_request(first, view=None) for _ in range(3)] == [True, True, False]
    assert UserRateThrottle().allow_request(second, view=None)
