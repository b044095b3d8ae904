"""Run by tests/fithub/test_sync_sqlite.py in `manage.py shell` on a fresh SQLite database
(the embedded default of `make run`): changes rows by each path and prints what the
versions and the feed say, one JSON document, for the test to check."""

import datetime as dt
import json
from decimal import Decimal

from django.db import connection, models
from django.utils import timezone

from apps.measurements.models import Measurement, MeasurementType
from apps.nutrition import services
from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal
from apps.users import services as users
from apps.users.models import User
from fithub.models import Change, ChangeSequence
from fithub.sync.feed import changes_page, decode_cursor

out: dict = {}


def version(model, pk) -> int:
    return model._base_manager.filter(pk=pk).values_list("version", flat=True).get()


def feed(user, since=None) -> list[tuple]:
    changes, cursor = [], since
    while True:
        page = changes_page(user=user, since=cursor, limit=2)
        changes += [(c["type"], str(c["id"]), c["op"], c["version"], c["data"] is None) for c in page.changes]
        cursor = decode_cursor(page.cursor)
        if not page.has_more:
            return changes, cursor


user = users.register_user(email="sqlite@example.com", password="a long enough password 1")
other = users.register_user(email="other@example.com", password="a long enough password 2")
out["profile"] = feed(user)[0]
food = services.create_food(user=user, name="Granola", energy_kcal=400, portions=[{"description": "bowl", "grams": 60}])
out["food_created"] = [food.version, version(Food, food.pk)]
food = services.update_food(food=Food.objects.get(pk=food.pk), name="Oat granola", portions=[])
out["food_updated"] = [food.version, version(Food, food.pk)]
meal = services.save_meal(user=user, name="Bowl", items=[{"food": food, "grams": 80}])
meal_version = version(Meal, meal.pk)
Food.objects.filter(pk=food.pk).update(energy_kcal=410)
out["meal_follows_food"] = [meal_version, version(Meal, meal.pk)]
food_version = version(Food, food.pk)
preference, _ = services.set_preference(user=user, food=food, favorite=True)
out["food_follows_preference"] = [food_version, version(Food, food.pk)]
_, cursor = feed(user)
weight = MeasurementType.objects.get(key="weight", user=None)
profile_version = version(User, user.pk)
Measurement.objects.create(user=user, type=weight, value=Decimal(70), entered_value=70, entered_unit="kg",
                           measured_at=timezone.now())  # fmt: skip
out["profile_follows_weight"] = [profile_version, version(User, user.pk)]
entries = DiaryEntry.objects.bulk_create(
    [DiaryEntry(user=user, label=f"e{i}", meal="lunch", consumed_at=timezone.now(), local_date=dt.date(2026, 11, 20))
     for i in range(3)]
)  # fmt: skip
DiaryEntry.objects.filter(pk=entries[0].pk).update(label="changed")
DiaryEntry.objects.filter(pk=entries[1].pk).delete()
with connection.cursor() as cursor_:
    cursor_.execute("UPDATE nutrition_diaryentry SET label = 'raw' WHERE id = %s", [entries[2].pk.hex])
spare = Food.objects.create(user=user, name="Spare", source="user")
FoodPreference.objects.create(user=user, food=spare)
spare_id = str(spare.pk)
spare.delete()  # cascades to its preference
given = Food.objects.create(user=user, name="Given", source="user")
Food.objects.filter(pk=given.pk).update(user=other)
out["since"] = feed(user, cursor)[0]
out["ids"] = {
    "entries": [str(e.pk) for e in entries],
    "spare": spare_id,
    "given": str(given.pk),
    "user": str(user.pk),
}
out["other_has_given"] = [c for c in feed(other)[0] if c[1] == str(given.pk)]

# Django remakes an SQLite table to add a column: the triggers stay (fithub.db.backends.sqlite3).
with connection.schema_editor() as editor:
    for model in (FoodPortion, Food):
        field = models.IntegerField(null=True, default=0)
        field.set_attributes_from_name("remade")
        editor.add_field(model, field)
with connection.cursor() as cursor_:
    cursor_.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name IN ('nutrition_food', 'nutrition_foodportion')"
    )
    out["triggers_after_remake"] = sorted(row[0] for row in cursor_.fetchall())
before = version(Food, food.pk)
with connection.cursor() as cursor_:
    cursor_.execute(
        "INSERT INTO nutrition_foodportion (food_id, seq, position, description, grams) VALUES (%s, 9, 9, 'cup', 10)",
        [food.pk.hex],
    )
    cursor_.execute("UPDATE nutrition_food SET name = 'Renamed' WHERE id = %s", [food.pk.hex])
out["after_remake"] = [before, version(Food, food.pk), version(Meal, meal.pk) > out["meal_follows_food"][1]]

users.delete_account(user=user, password="a long enough password 1")
out["deleted"] = [
    Change.objects.filter(user_id=user.pk).count(),
    ChangeSequence.objects.filter(user_id=user.pk).count(),
]
print("RESULT " + json.dumps(out))
