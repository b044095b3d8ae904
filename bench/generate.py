# ruff: noqa: S608 - benchmark tooling: constant SQL identifiers, our own commands, loopback URLs
"""Bulk benchmark data: N users, each with days of history, written with set-based SQL.

    DATABASE_URL=... uv run python bench/generate.py --users 2000 [--scale 10]

Per user: ~5 diary entries a day (alternating food-based from the public USDA foods and
quick-add, local_date = the day in the user's time zone), a weight a day, one active
weight goal and one nutrition target. Every user's email is bench<N>@bench.example and all
share one password (BENCH_PASSWORD), hashed once with Django's hasher. Needs migrations
applied and the public foods loaded (`manage.py load_foods`). Idempotent: earlier bench
users are deleted first.

The sync feed's change-log triggers (fithub.db.change_log) are off while the rows go in (one
statement of millions of rows would log them in one call) and the log is then filled as the
migrations fill it for existing rows (BackfillChanges), in set-based statements.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402

from apps.goals.models import Goal  # noqa: E402
from apps.measurements.models import Measurement, MeasurementType  # noqa: E402
from apps.nutrition.models import DiaryEntry, Food, NutritionTarget, RecentFood  # noqa: E402
from apps.users.models import User  # noqa: E402
from fithub.db.change_log import BackfillChanges  # noqa: E402
from fithub.models import Change, ChangeSequence  # noqa: E402

BENCH_PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway benchmark account
EMAIL_DOMAIN = "bench.example"
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
ENTRIES_PER_DAY = 5


def log(message: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S')}] {message}", flush=True)


@functools.cache
def password_hash() -> str:
    return make_password(BENCH_PASSWORD)  # once: password hashing is slow on purpose


def run(sql: str, params: dict | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount


def generate(users: int, days: int, prefix: str = "bench") -> None:
    """`users` users named <prefix><N>@bench.example with `days` days of history each."""
    t_user = User._meta.db_table
    t_diary = DiaryEntry._meta.db_table
    t_meas = Measurement._meta.db_table
    t_goal = Goal._meta.db_table
    t_target = NutritionTarget._meta.db_table

    foods = Food.objects.filter(user__isnull=True).count()
    if not foods:
        sys.exit("no public foods: run `manage.py load_foods` first")
    weight_type = MeasurementType.objects.get(user__isnull=True, key="weight").pk

    started = time.monotonic()
    pattern = f"{prefix}%@{EMAIL_DOMAIN}"
    log(f"deleting earlier users {pattern}")
    run(f"DELETE FROM {t_user} WHERE email LIKE %(pattern)s", {"pattern": pattern})

    tracked = (t_user, t_diary, t_meas, t_goal, t_target)
    change_log_triggers(tracked, enabled=False)
    try:
        load(prefix, users, days, foods, weight_type)
    finally:
        change_log_triggers(tracked, enabled=True)
    log("the change log of the rows loaded (as the migrations backfill it)")
    with connection.schema_editor() as editor:
        for operation in (
            BackfillChanges(table=t_user, type="profile", user_column="id", creates_sequences=True),
            BackfillChanges(table=t_diary, type="diary_entry"),
            BackfillChanges(table=t_meas, type="measurement"),
            BackfillChanges(table=t_goal, type="goal"),
            BackfillChanges(table=t_target, type="nutrition_target"),
        ):
            operation.database_forwards("", editor, None, None)
    log("ANALYZE")
    for table in (*tracked, "fithub_change", "fithub_changesequence"):
        run(f"ANALYZE {table}")
    log(f"done in {time.monotonic() - started:.1f} s")


def change_log_triggers(tables: tuple[str, ...], *, enabled: bool) -> None:
    """Turn the change log's triggers (named fithub_*) of these tables on or off."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE 'fithub%%' AND c.relname = ANY(%s)",
            [list(tables)],
        )
        for table, trigger in cursor.fetchall():
            cursor.execute(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER {trigger}")


def load(prefix: str, users: int, days: int, foods: int, weight_type) -> None:
    t_user = User._meta.db_table
    t_diary = DiaryEntry._meta.db_table
    t_food = Food._meta.db_table
    t_meas = Measurement._meta.db_table
    t_goal = Goal._meta.db_table
    t_target = NutritionTarget._meta.db_table
    pattern = f"{prefix}%@{EMAIL_DOMAIN}"
    password = password_hash()
    zones = "{" + ",".join(ZONES) + "}"
    n = run(
        f"""
        INSERT INTO {t_user} (id, password, is_superuser, email, display_name, sex, birth_date, height_cm,
            activity_level, timezone, unit_system, is_active, is_staff, created_at, updated_at)
        SELECT gen_random_uuid(), %(password)s, false, %(prefix)s || g || '@{EMAIL_DOMAIN}', 'Bench ' || g,
            CASE WHEN g %% 2 = 0 THEN 'female' ELSE 'male' END, DATE '1990-01-01' + (g %% 7000),
            160 + (g %% 40), 'moderate', (%(zones)s::text[])[1 + g %% {len(ZONES)}], 'metric', true, false,
            now() - make_interval(days => %(days)s), now()
        FROM generate_series(1, %(users)s) AS g
        """,
        {"password": password, "zones": zones, "days": days, "users": users, "prefix": prefix},
    )
    log(f"{n} users {pattern}")

    run("DROP TABLE IF EXISTS bench_food")
    run(
        f"""CREATE TEMP TABLE bench_food AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS rn, id, name, energy_kcal, protein_g, fat_g,
                   carbohydrate_g, fiber_g, sugars_g, saturated_fat_g, sodium_mg
            FROM {t_food} WHERE user_id IS NULL"""
    )
    run("CREATE INDEX ON bench_food (rn)")
    run("DROP TABLE IF EXISTS bench_user")
    run(
        f"""CREATE TEMP TABLE bench_user AS
            SELECT id, timezone, row_number() OVER (ORDER BY email) AS n
            FROM {t_user} WHERE email LIKE %(pattern)s""",
        {"pattern": pattern},
    )

    # Diary: slot k of day d; even slots are food-based (150 g of a USDA food), odd ones quick-adds.
    # consumed_at is the local wall time in the user's zone; local_date is that day.
    log(f"diary: {users} users x {days} days x {ENTRIES_PER_DAY} entries")
    n = run(
        f"""
        INSERT INTO {t_diary} (id, user_id, created_at, updated_at, food_id, portion_id, quantity, grams, label,
            meal, consumed_at, local_date, saved_meal_id, energy_kcal, protein_g, fat_g, carbohydrate_g,
            fiber_g, sugars_g, saturated_fat_g, sodium_mg)
        SELECT gen_random_uuid(), u.id, s.at, s.at,
            CASE WHEN s.k %% 2 = 0 THEN f.id END, NULL, NULL,
            CASE WHEN s.k %% 2 = 0 THEN 150.0 END,
            CASE WHEN s.k %% 2 = 0 THEN f.name ELSE 'Quick add ' || s.k END,
            (ARRAY['breakfast','lunch','dinner','snack','snack'])[s.k + 1], s.at, s.day, NULL,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.energy_kcal, 0) * 1.5 ELSE 300 + (u.n + s.d) %% 400 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.protein_g, 0) * 1.5 ELSE 20 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.fat_g, 0) * 1.5 ELSE 10 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.carbohydrate_g, 0) * 1.5 ELSE 40 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.fiber_g, 0) * 1.5 ELSE 0 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.sugars_g, 0) * 1.5 ELSE 0 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.saturated_fat_g, 0) * 1.5 ELSE 0 END,
            CASE WHEN s.k %% 2 = 0 THEN coalesce(f.sodium_mg, 0) * 1.5 ELSE 0 END
        FROM bench_user u
        CROSS JOIN LATERAL (
            SELECT d, k, day,
                   (day + make_interval(hours => (ARRAY[8,12,19,16,21])[k + 1])) AT TIME ZONE u.timezone AS at
            FROM generate_series(0, %(days)s - 1) AS d,
                 generate_series(0, {ENTRIES_PER_DAY - 1}) AS k,
                 LATERAL (SELECT (now() AT TIME ZONE u.timezone)::date - d AS day) AS x
        ) AS s
        LEFT JOIN bench_food f ON s.k %% 2 = 0 AND f.rn = (u.n * 7919 + s.d * 31 + s.k) %% %(foods)s
        """,
        {"days": days, "foods": foods},
    )
    log(f"{n} diary entries")

    log("weights: one a day")
    n = run(
        f"""
        INSERT INTO {t_meas} (id, user_id, created_at, updated_at, type_id, value, entered_value, entered_unit,
            measured_at, note)
        SELECT gen_random_uuid(), u.id, m.at, m.at, %(type)s, m.v, m.v, 'kg', m.at, ''
        FROM bench_user u
        CROSS JOIN LATERAL (
            SELECT ((now() AT TIME ZONE u.timezone)::date - d + time '07:00') AT TIME ZONE u.timezone AS at,
                   round((70 + (u.n %% 30) + d * 0.01 + (d %% 5) * 0.1)::numeric, 1) AS v
            FROM generate_series(0, %(days)s - 1) AS d
        ) AS m
        """,
        {"type": weight_type, "days": days},
    )
    log(f"{n} measurements")

    run(
        f"""
        INSERT INTO {t_goal} (id, user_id, created_at, updated_at, type_id, target_value, start_value,
            start_date, target_date, status, achieved_at)
        SELECT gen_random_uuid(), u.id, now(), now(), %(type)s, 65 + (u.n %% 30) - 5, 70 + (u.n %% 30) + 3,
            current_date - %(days)s, current_date + 90, 'active', NULL
        FROM bench_user u
        """,
        {"type": weight_type, "days": days},
    )
    run(
        f"""
        INSERT INTO {t_target} (id, user_id, created_at, updated_at, energy_kcal, protein_g, fat_g,
            carbohydrate_g, effective_from)
        SELECT gen_random_uuid(), u.id, now(), now(), 1800 + (u.n %% 8) * 100, 120, 70, 220,
            current_date - %(days)s
        FROM bench_user u
        """,
        {"days": days},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000, help="number of users (default 2000)")
    parser.add_argument("--scale", type=int, default=1, help="years of history per user (10 for 10x)")
    parser.add_argument("--long-users", type=int, default=16, help="extra users long<N>@ with --long-years")
    parser.add_argument("--long-years", type=int, default=10, help="history of the long users (default 10)")
    args = parser.parse_args()
    generate(args.users, 365 * args.scale)
    if args.long_users:
        generate(args.long_users, 365 * args.long_years, prefix="long")
    vacuum()


def vacuum() -> None:
    """VACUUM (ANALYZE) the tables written: otherwise autovacuum sets to work on millions of
    fresh rows while the load runs, and slows whichever runs it overlaps (seen as the later
    runs of a bench, floor included, coming out slower). The foods too, just loaded: without
    their statistics the planner guessed 14% of them archived and read recent foods through
    the wrong indexes (15,261 buffers instead of 735), or not, as autovacuum had got to them.
    The recent foods' rows, which the diary's triggers wrote, are vacuumed too: their count
    is an index-only scan only once the visibility map is set."""
    started = time.monotonic()
    for model in (User, Food, DiaryEntry, RecentFood, Measurement, Goal, NutritionTarget, Change, ChangeSequence):
        run(f"VACUUM (ANALYZE) {model._meta.db_table}")
    log(f"VACUUM (ANALYZE) in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
