import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.nutrition.demo import seed_demo_diary
from apps.nutrition.models import DiaryEntry, Food, FoodPreference, Meal
from apps.nutrition.selectors import daily_totals
from apps.users.models import User
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPreferenceFactory,
    MealItemFactory,
    QuickAddEntryFactory,
)
from tests.users.factories import PASSWORD

pytestmark = pytest.mark.django_db


class _Sink:
    def write(self, text):
        pass

    def flush(self):
        pass


def test_daily_totals_covers_every_day_and_only_the_users_entries(user):
    day = dt.date(2026, 11, 20)
    QuickAddEntryFactory(user=user, local_date=day, energy_kcal=300, protein_g=10, fat_g=5, carbohydrate_g=40)
    QuickAddEntryFactory(user=user, local_date=day, energy_kcal=200, protein_g=1, fat_g=2, carbohydrate_g=3)
    QuickAddEntryFactory(local_date=day, energy_kcal=999)
    totals = daily_totals(user=user, start=day - dt.timedelta(days=1), end=day)
    assert list(totals) == [day - dt.timedelta(days=1), day]
    assert totals[day - dt.timedelta(days=1)]["energy_kcal"] == 0
    assert {key: totals[day][key] for key in ("energy_kcal", "protein_g", "fat_g", "carbohydrate_g")} == {
        "energy_kcal": 500,
        "protein_g": 11,
        "fat_g": 7,
        "carbohydrate_g": 43,
    }


def test_seed_demo_does_nothing_in_production_unless_forced(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--days", "1", stdout=_Sink())
    assert not User.objects.filter(email="demo@fithub.example").exists()
    call_command("seed_demo", "--days", "1", "--force", stdout=_Sink())
    assert User.objects.filter(email="demo@fithub.example").exists()


def test_seed_demo_creates_the_account_and_a_diary_once(settings):
    settings.DEBUG = True
    call_command("load_foods", stdout=_Sink())
    call_command("seed_demo", "--days", "7", stdout=_Sink())
    user = User.objects.get(email="demo@fithub.example")
    assert user.check_password("fithub-demo-password")
    entries = DiaryEntry.objects.filter(user=user)
    assert entries.count() == 7 * 10
    assert entries.filter(food__isnull=False).count() == 7 * 10
    assert Meal.objects.filter(user=user).count() == 1
    assert FoodPreference.objects.filter(user=user, favorite=True).count() == 1
    assert {entry.local_date for entry in entries} == {user.local_today() - dt.timedelta(days=n) for n in range(7)}

    call_command("seed_demo", "--days", "7", stdout=_Sink())
    assert DiaryEntry.objects.filter(user=user).count() == 7 * 10  # nothing added the second time
    assert User.objects.filter(email="demo@fithub.example").count() == 1


def test_seed_demo_diary_without_the_food_database_uses_quick_adds(user):
    assert seed_demo_diary(user=user, days=2) == 20
    assert DiaryEntry.objects.filter(user=user, food__isnull=True).count() == 20
    assert seed_demo_diary(user=user, days=3) == 10


def test_deleting_the_account_removes_its_nutrition_data(auth_client, user):
    food = CustomFoodFactory(user=user)
    FoodPreferenceFactory(user=user, food=food, favorite=True)
    MealItemFactory(meal__user=user, food=food)
    QuickAddEntryFactory(user=user)
    others = QuickAddEntryFactory()
    assert auth_client.delete(reverse("users-me"), {"password": PASSWORD}).status_code == 204
    assert not Food.objects.filter(user_id=user.pk).exists()
    assert not DiaryEntry.objects.filter(user_id=user.pk).exists()
    assert not Meal.objects.filter(user_id=user.pk).exists()
    assert not FoodPreference.objects.filter(user_id=user.pk).exists()
    assert DiaryEntry.objects.filter(pk=others.pk).exists()
