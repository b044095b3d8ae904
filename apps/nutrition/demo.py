"""Demo data: a believable diary for a demo account (used by `manage.py seed_demo`)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from apps.nutrition import services
from apps.nutrition.models import DiaryEntry, Food, FoodPreference, Meal, WaterEntry

# USDA NDB numbers of everyday foods, and what a day of the demo diary holds.
DEMO_FOODS = {
    "oats": "08120",  # Cereals, oats, regular and quick, not fortified, dry
    "milk": "01077",  # Milk, whole, 3.25% milkfat
    "banana": "09040",  # Bananas, raw
    "chicken": "05062",  # Chicken breast, skinless, boneless, raw
    "rice": "20045",  # Rice, white, long-grain, regular, enriched, cooked
    "broccoli": "11090",  # Broccoli, raw
    "egg": "01123",  # Egg, whole, raw, fresh
    "apple": "09003",  # Apples, raw, with skin
}
DAY_PLAN = [
    ("breakfast", time(7, 45), [("oats", 60), ("milk", 200), ("banana", 120)]),
    ("lunch", time(12, 30), [("chicken", 150), ("rice", 180), ("broccoli", 100)]),
    ("snack", time(16, 0), [("apple", 180)]),
    ("dinner", time(19, 30), [("egg", 100), ("rice", 150), ("broccoli", 150)]),
]
NAMESPACE = uuid.UUID("5b0c1d4e-8f3a-4c2b-9d7e-6a1f0e2d3c4b")
# A day's water: glasses in ml, and a mug entered in US fluid ounces.
WATER_PLAN = [
    (time(8, 0), "250", "ml"),
    (time(11, 0), "330", "ml"),
    (time(15, 0), "250", "ml"),
    (time(18, 0), "8", "fl_oz"),
]


@transaction.atomic
def seed_demo_diary(*, user, days: int) -> int:
    """Fill the last `days` local days (today included) of the user's diary; returns entries created.

    Idempotent: entries get ids derived from the user, day and slot, so running it again
    adds only the days that are missing. Uses the public USDA foods when they are loaded
    (`manage.py load_foods`), quick-add entries otherwise. Also saves a planned meal and a
    favorite.
    """
    foods = {food.source_id: food for food in Food.objects.filter(user__isnull=True, source_id__in=DEMO_FOODS.values())}
    today = user.local_today()
    created = 0
    wanted = {}
    for offset in range(days):
        day = today - timedelta(days=offset)
        for meal, at, items in DAY_PLAN:
            for index, (key, grams) in enumerate(items):
                # A little day-to-day variation, the same on every run.
                grams = round(grams * (0.8 + ((offset * 7 + index * 3) % 5) / 10), 1)
                entry_id = uuid.uuid5(NAMESPACE, f"{user.pk}/{day.isoformat()}/{meal}/{index}")
                wanted[entry_id] = (day, meal, at, key, grams)
    existing = set(DiaryEntry.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for entry_id, (day, meal, at, key, grams) in wanted.items():
        if entry_id in existing:
            continue
        consumed_at = datetime.combine(day, at, tzinfo=user.zone)
        food = foods.get(DEMO_FOODS[key])
        if food is not None:
            services.log_food(user=user, id=entry_id, meal=meal, consumed_at=consumed_at, food=food, grams=grams)
        else:
            services.log_food(
                user=user,
                id=entry_id,
                meal=meal,
                consumed_at=consumed_at,
                label=f"{key.title()} ({grams:g} g)",
                nutrients={"energy_kcal": grams * 1.5, "protein_g": grams * 0.05, "carbohydrate_g": grams * 0.2},
            )
        created += 1

    if foods and not Meal.objects.filter(user=user, name="Chicken, rice and broccoli").exists():
        lunch = next(items for meal, _, items in DAY_PLAN if meal == "lunch")
        services.save_meal(
            user=user,
            name="Chicken, rice and broccoli",
            slot="lunch",
            weekdays=["monday", "wednesday", "friday"],
            items=[
                {"food": foods[DEMO_FOODS[key]], "grams": grams} for key, grams in lunch if DEMO_FOODS[key] in foods
            ],
        )
    if DEMO_FOODS["oats"] in foods:
        FoodPreference.objects.get_or_create(user=user, food=foods[DEMO_FOODS["oats"]], defaults={"favorite": True})
    return created


@transaction.atomic
def seed_demo_water(*, user, days: int) -> int:
    """Water on the last `days` local days (today included); returns entries created.
    Idempotent as the diary is (ids derived from the user, day and time)."""
    today = user.local_today()
    wanted = {
        uuid.uuid5(NAMESPACE, f"{user.pk}/{day.isoformat()}/water/{at.isoformat()}"): (day, at, value, unit)
        for day in (today - timedelta(days=offset) for offset in range(days))
        for at, value, unit in WATER_PLAN
    }
    existing = set(WaterEntry.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    created = 0
    for entry_id, (day, at, value, unit) in wanted.items():
        if entry_id in existing:
            continue
        consumed_at = datetime.combine(day, at, tzinfo=user.zone)
        services.log_water(user=user, id=entry_id, consumed_at=consumed_at, value=Decimal(value), unit=unit)
        created += 1
    return created
