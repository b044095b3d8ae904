"""Run by tests/nutrition/test_recent_food_migration.py in a subprocess, against an empty
database of its own (DATABASE_URL): migrate to just before the recent foods' rows, write a
diary with the models of that time, migrate to the end, and check that the backfill and
then the triggers (still there after every later migration) give each pair's latest entry;
and that `migrate` puts back triggers a table rebuild dropped, rebuilding the rows. Prints
one JSON line."""

import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

BEFORE = ("nutrition", "0016_food_search_form_whole_wheat")
TRIGGERS = {"nutrition_recent_food_insert", "nutrition_recent_food_update", "nutrition_recent_food_delete"}


def triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'nutrition_diaryentry'::regclass")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'nutrition_diaryentry'"
            )
        return {name for (name,) in cursor.fetchall()} & TRIGGERS


def main() -> None:
    call_command("migrate", *BEFORE, verbosity=0)
    old = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    user_model, food_model, entry_model = (
        old.get_model("users", "User"),
        old.get_model("nutrition", "Food"),
        old.get_model("nutrition", "DiaryEntry"),
    )
    users = [user_model.objects.create(email=f"m{n}@example.com", password="!") for n in range(2)]
    foods = [food_model.objects.create(name=f"Food {n}", source="usda", source_id=f"x{n}") for n in range(3)]
    base = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    plan = [(0, 0, 5), (0, 0, 3), (0, 0, 3), (0, 1, 1), (1, 0, 2), (1, 2, 4), (0, None, 0)]
    for user, food, hours in plan:
        at = base + dt.timedelta(hours=hours)
        entry_model.objects.create(
            id=uuid.uuid4(),
            user=users[user],
            food=foods[food] if food is not None else None,
            grams=10.0,
            label="x",
            meal="lunch",
            consumed_at=at,
            local_date=at.date(),
        )
    call_command("migrate", verbosity=0)

    from apps.nutrition import triggers
    from apps.nutrition.models import DiaryEntry, RecentFood
    from tests.nutrition.test_recent_food_rows import recomputed, stored

    ids = [user.pk for user in users]
    checks = {
        "backfilled": stored(ids) == recomputed(ids),
        "rows": len(stored(ids)),
        "triggers": sorted(triggers.installed(connection)),
    }
    latest = DiaryEntry.objects.filter(user_id=ids[0], food_id=foods[0].pk).order_by("-consumed_at", "-id").first()
    latest.delete()  # falls back to the one before
    DiaryEntry.objects.filter(user_id=ids[1], food_id=foods[0].pk).update(consumed_at=base)
    DiaryEntry.objects.filter(user_id=ids[0], food_id=foods[1].pk).delete()  # the pair goes
    DiaryEntry.objects.filter(user_id=ids[1], food_id=foods[2].pk).update(food_id=foods[1].pk)
    checks["kept"] = stored(ids) == recomputed(ids)
    checks["rows_after"] = RecentFood.objects.count()

    # What a rebuild of the diary table on SQLite does to the triggers; an entry then goes unseen.
    with connection.schema_editor() as editor:
        triggers.drop(editor)
    at = base + dt.timedelta(hours=9)
    DiaryEntry.objects.create(
        user_id=ids[1], food_id=foods[2].pk, grams=5, label="x", meal="lunch", consumed_at=at, local_date=at.date()
    )
    unseen = stored(ids) != recomputed(ids)
    call_command("migrate", verbosity=0)  # nothing to apply; its post_migrate puts them back
    checks["reinstalled"] = (
        unseen and stored(ids) == recomputed(ids) and triggers.installed(connection) == set(triggers.TRIGGERS)
    )
    print(json.dumps(checks))


if __name__ == "__main__":
    main()
