import pytest
from django.urls import reverse

from apps.goals.models import Goal
from apps.measurements.demo import seed_demo_measurements
from apps.measurements.models import Measurement

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_weight_series_and_a_goal_once(auth_client, user, builtin_types):
    seed_demo_measurements(user=user, days=60)
    seed_demo_measurements(user=user, days=60)
    assert Measurement.objects.filter(user=user).count() == 60
    goal = Goal.objects.get(user=user)
    assert goal.status == "active"
    latest = Measurement.objects.filter(user=user).latest("measured_at")
    assert goal.target_value == latest.value - 3
    trend = auth_client.get(reverse("measurement-trend"), {"type": "weight"}).json()
    assert len(trend["points"]) == 60
    assert trend["rate_per_week"] < 0
    progress = auth_client.get(reverse("goal-progress", args=[goal.pk])).json()
    assert 0 < progress["percent_complete"] < 100
    assert progress["projected_date"] is not None
