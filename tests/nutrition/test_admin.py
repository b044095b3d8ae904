import pytest
from django.test import Client
from django.urls import reverse

from tests.nutrition.factories import FoodPortionFactory, MealItemFactory, PublicFoodFactory, QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_food_admin_searches_and_edits_public_foods(staff_client):
    wanted = PublicFoodFactory(name="Kale, raw", barcode="123")
    FoodPortionFactory(food=wanted)
    PublicFoodFactory(name="Spinach, raw")
    response = staff_client.get(reverse("admin:nutrition_food_changelist"), {"q": "kale"})
    assert response.status_code == 200
    assert b"Kale, raw" in response.content
    assert b"Spinach, raw" not in response.content
    assert staff_client.get(reverse("admin:nutrition_food_change", args=[wanted.pk])).status_code == 200


def test_other_nutrition_admin_pages_open(staff_client):
    MealItemFactory()
    QuickAddEntryFactory()
    for name in ("meal", "diaryentry", "foodpreference"):
        assert staff_client.get(reverse(f"admin:nutrition_{name}_changelist")).status_code == 200
