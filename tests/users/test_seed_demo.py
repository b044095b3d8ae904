import io

import pytest
from django.core.management import call_command

from apps.goals.models import Goal
from apps.measurements.models import Measurement
from apps.nutrition.models import DiaryEntry, WaterEntry
from apps.users.models import User

pytestmark = pytest.mark.django_db


class _Sink:
    def write(self, *args, **kwargs):
        pass


def test_seed_demo_fills_diary_and_measurements_once(settings):
    settings.DEBUG = True
    call_command("seed_demo", "--days", "10", stdout=_Sink())
    demo = User.objects.get(email="demo@fithub.example")
    entries, weights = DiaryEntry.objects.filter(user=demo).count(), Measurement.objects.filter(user=demo).count()
    assert entries > 0
    assert weights > 0
    assert demo.height_cm is not None  # so bmi, bmr_kcal and tdee_kcal have values to show
    call_command("seed_demo", "--days", "10", stdout=_Sink())
    assert DiaryEntry.objects.filter(user=demo).count() == entries
    assert WaterEntry.objects.filter(user=demo).count() == 10 * 4  # once, though seeded twice
    assert Measurement.objects.filter(user=demo).count() == weights
    assert Goal.objects.filter(user=demo, status="active").count() == 1


def test_seed_demo_says_what_each_app_seeded(settings, builtin_types):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", "--days", "2", stdout=out)
    assert (
        "Demo data: 20 diary entries added; 8 water entries added; weights in place; a weight goal in place."
        in out.getvalue()
    )
