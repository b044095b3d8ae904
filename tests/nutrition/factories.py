import datetime as dt
from decimal import Decimal

import factory

from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem, WaterEntry
from tests.users.factories import UserFactory


class PublicFoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Food

    user = None
    source = Food.Source.USDA
    source_id = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.Sequence(lambda n: f"Test food {n}, raw")
    food_group = "Test Products"
    energy_kcal = 200.0
    protein_g = 10.0
    fat_g = 5.0
    carbohydrate_g = 30.0
    fiber_g = 2.0
    sugars_g = 1.0
    saturated_fat_g = 1.5
    sodium_mg = 100.0


class CustomFoodFactory(PublicFoodFactory):
    user = factory.SubFactory(UserFactory)
    source = Food.Source.USER
    source_id = None
    name = factory.Sequence(lambda n: f"My food {n}")


class FoodPortionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FoodPortion

    food = factory.SubFactory(PublicFoodFactory)
    seq = factory.Sequence(lambda n: n + 1)
    position = factory.SelfAttribute("seq")
    description = "1 cup"
    grams = 240.0


class FoodPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FoodPreference

    user = factory.SubFactory(UserFactory)
    food = factory.SubFactory(PublicFoodFactory)


class MealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meal

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Meal {n}")


class MealItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MealItem

    meal = factory.SubFactory(MealFactory)
    food = factory.SubFactory(PublicFoodFactory)
    grams = 100.0


class QuickAddEntryFactory(factory.django.DjangoModelFactory):
    """A quick-add entry written directly (tests of reads); writes go through the services."""

    class Meta:
        model = DiaryEntry

    user = factory.SubFactory(UserFactory)
    label = "Quick add"
    meal = "lunch"
    consumed_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))
    local_date = factory.LazyAttribute(lambda entry: entry.consumed_at.date())
    energy_kcal = 500.0
    protein_g = 20.0
    fat_g = 10.0
    carbohydrate_g = 60.0


class WaterEntryFactory(factory.django.DjangoModelFactory):
    """A water entry written directly (tests of reads); writes go through the services."""

    class Meta:
        model = WaterEntry

    user = factory.SubFactory(UserFactory)
    ml = Decimal("250.00")
    entered_value = factory.SelfAttribute("ml")
    entered_unit = "ml"
    consumed_at = factory.LazyFunction(lambda: dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC))
    local_date = factory.LazyAttribute(lambda entry: entry.consumed_at.date())
