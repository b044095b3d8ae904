import pytest
from django.urls import reverse

from apps.goals.demo import seed_demo_goal
from apps.goals.models import Goal
from apps.measurements.demo import seed_demo_measurements
from apps.measurements.models import Measurement

pytestmark = pytest.mark.django_db


def test_demo_sets_a_weight_goal_for_the_demo_weights_once(auth_client, user, builtin_types):
    seed_demo_measurements(user=user, days=60)
    first = seed_demo_goal(user=user, days=60)
    assert seed_demo_goal(user=user, days=60) == first
    goal = Goal.objects.get(user=user)
    assert goal.status == "active"
    weights = Measurement.objects.filter(user=user).order_by("measured_at")
    assert goal.start_value == weights.first().value
    assert goal.target_value == weights.last().value - 3
    progress = auth_client.get(reverse("goal-progress", args=[goal.pk])).json()
    assert 0 < progress["percent_complete"] < 100
    assert progress["projected_date"] is not None


def test_no_demo_weights_no_goal(user, builtin_types):
    assert seed_demo_goal(user=user, days=30) is None
    assert not Goal.objects.exists()
