from decimal import Decimal

import pytest
from django.urls import reverse

from apps.goals.models import Goal
from apps.measurements.models import Measurement, MeasurementType
from apps.nutrition.models import NutritionTarget
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_deleting_the_account_removes_measurements_types_goals_and_targets(auth_client, user, builtin_types):
    other = UserFactory()
    for owner in (user, other):
        calf = MeasurementTypeFactory(user=owner, name="Calf")
        MeasurementFactory(user=owner)
        MeasurementFactory(user=owner, type=calf, value=Decimal(38))
        GoalFactory(user=owner)
        GoalFactory(user=owner, type=calf, start_value=38, target_value=40)
        NutritionTarget.objects.create(user=owner, energy_kcal=2000, effective_from="2026-11-01")
    assert auth_client.delete(reverse("users-me"), {"password": PASSWORD}).status_code == 204
    for model in (Measurement, Goal, NutritionTarget):
        assert not model.objects.filter(user_id=user.pk).exists()
        assert model.objects.filter(user=other).count() >= 1
    assert not MeasurementType.objects.filter(user_id=user.pk).exists()
    assert MeasurementType.objects.filter(user=other).count() == 1
    assert MeasurementType.objects.filter(user__isnull=True).count() == len(builtin_types)
