import pytest
from django.urls import reverse

from apps.measurements.demo import demo_weights, seed_demo_measurements
from apps.measurements.models import Measurement

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_falling_weight_series_once(auth_client, user, builtin_types):
    seed_demo_measurements(user=user, days=60)
    seed_demo_measurements(user=user, days=60)
    assert Measurement.objects.filter(user=user).count() == 60
    trend = auth_client.get(reverse("measurement-trend"), {"type": "weight"}).json()
    assert len(trend["points"]) == 60
    assert trend["rate_per_week"] < 0


def test_demo_weights_are_the_seeded_rows_oldest_first(user, builtin_types):
    created = seed_demo_measurements(user=user, days=10)
    assert demo_weights(user=user, days=10) == created
    assert demo_weights(user=user, days=0) == []
