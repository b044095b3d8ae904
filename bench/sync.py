"""The change log's cost per write, and the sync feed's per change, in process.

    harness/with-postgres.sh uv run python -m bench.sync [--writes 300] [--rounds 4]

Migrates the database it is given (DATABASE_URL), then, as one user through Django's test
client (the whole view: routing, validation, the service, rendering; no HTTP or gunicorn):

- writes: `--writes` diary entries logged (POST /api/v1/diary/), changed (PATCH) and deleted
  (DELETE), in `--rounds` interleaved rounds with the diary table's change-log triggers
  enabled and disabled (`ALTER TABLE ... DISABLE TRIGGER fithub_changes_...`; the order swaps
  each round). The difference of the medians is what the log costs one write: the version
  bump, the counter's UPDATE and the log's upsert, in the write's transaction;
- the database's share: each statement of those writes (INSERT, UPDATE, DELETE of one
  entry, in its own transaction) under EXPLAIN ANALYZE, which times the statement and each
  trigger apart, so the triggers' time is measured without the client's noise;
- the feed: full syncs of the user's changes, 500 a page, timed per change, and the same
  after pruning the log to the upserts (the rows' rendering is most of it).

One JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")
os.environ.pop("DATABASE_REPLICA_URLS", None)  # writes and their reads on the primary
os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # Django's test client
for scope in ("ANON", "USER", "IP"):
    os.environ[f"THROTTLE_{scope}"] = "100000000/min"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from apps.users.models import User  # noqa: E402
from apps.users.services import start_session  # noqa: E402

DIARY = "/api/v1/diary/"
FEED = "/api/v1/sync/changes/"
TRIGGERS = ("fithub_changes_version", "fithub_changes_insert", "fithub_changes_update", "fithub_changes_delete")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=300, help="entries logged, changed and deleted per run")
    parser.add_argument("--rounds", type=int, default=4)
    return parser.parse_args()


def set_triggers(enabled: bool) -> None:
    with connection.cursor() as cursor:
        for trigger in TRIGGERS:
            action = "ENABLE" if enabled else "DISABLE"
            cursor.execute(f"ALTER TABLE nutrition_diaryentry {action} TRIGGER {trigger}")


def client_for(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {start_session(user=user).access}")


def expect(response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(f"{response.status_code} instead of {status}: {response.content[:200]!r}")


def timed(calls) -> float:
    """Microseconds per call."""
    start = time.perf_counter()
    count = 0
    for call in calls:
        call()
        count += 1
    return (time.perf_counter() - start) / count * 1e6


def run_writes(client: Client, writes: int) -> dict[str, float]:
    ids: list[str] = []

    def post(i: int):
        def call():
            body = {"label": f"Bench {i}", "energy_kcal": 250, "meal": "lunch", "consumed_at": "2026-11-20T12:00:00Z"}
            response = client.post(DIARY, body, content_type="application/json")
            expect(response, 201)
            ids.append(response.json()["id"])

        return call

    def patch(pk: str):
        def call():
            expect(client.patch(f"{DIARY}{pk}/", {"energy_kcal": 300}, content_type="application/json"), 200)

        return call

    def delete(pk: str):
        def call():
            expect(client.delete(f"{DIARY}{pk}/"), 204)

        return call

    created = timed(post(i) for i in range(writes))
    changed = timed(patch(pk) for pk in list(ids))
    deleted = timed(delete(pk) for pk in list(ids))
    return {"post": created, "patch": changed, "delete": deleted}


EXPLAINED = {
    "insert": (
        "INSERT INTO nutrition_diaryentry (id, user_id, label, meal, consumed_at, local_date, energy_kcal, protein_g, "
        "fat_g, carbohydrate_g, fiber_g, sugars_g, saturated_fat_g, sodium_mg, created_at, updated_at) VALUES "
        "(%s, %s, 'Explained', 'lunch', now(), current_date, 250, 0, 0, 0, 0, 0, 0, 0, now(), now())"
    ),
    "update": "UPDATE nutrition_diaryentry SET energy_kcal = 300, updated_at = now() WHERE id = %s",
    "delete": "DELETE FROM nutrition_diaryentry WHERE id = %s",
}


def explain(sql: str, params: list) -> tuple[float, float]:
    """(the statement's execution time without its triggers, the triggers' time), in µs."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()[0]
    ours = [trigger for trigger in plan.get("Triggers", []) if trigger["Trigger Name"].startswith("fithub")]
    triggers = sum(trigger["Time"] for trigger in ours)
    return (plan["Execution Time"] - triggers) * 1000, triggers * 1000


def run_explained(user: User, count: int) -> dict[str, dict[str, float]]:
    import uuid

    from django.db import transaction

    times: dict[str, list[tuple[float, float]]] = {op: [] for op in EXPLAINED}
    for _ in range(count):
        pk = uuid.uuid4()
        for op in EXPLAINED:
            with transaction.atomic():
                times[op].append(explain(EXPLAINED[op], [pk, user.pk] if op == "insert" else [pk]))
    return {
        op: {
            "statement_us": round(statistics.median(t[0] for t in rows), 1),
            "triggers_us": round(statistics.median(t[1] for t in rows), 1),
        }
        for op, rows in times.items()
    }


def main() -> None:
    args = arguments()
    call_command("migrate", "--no-input", verbosity=0)
    user, _ = User.objects.get_or_create(email="sync-bench@bench.example", defaults={"display_name": "sync bench"})
    client = client_for(user)
    run_writes(client, 30)  # warm-up
    explained = run_explained(user, args.writes)
    runs: dict[str, dict[str, list[float]]] = {"on": {}, "off": {}}
    try:
        for round_ in range(args.rounds):
            for mode in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
                set_triggers(mode == "on")
                for op, micros in run_writes(client, args.writes).items():
                    runs[mode].setdefault(op, []).append(micros)
    finally:
        set_triggers(True)
    writes = {
        op: {
            "with_log_us": round(statistics.median(runs["on"][op]), 1),
            "without_us": round(statistics.median(runs["off"][op]), 1),
            "cost_us": round(statistics.median(runs["on"][op]) - statistics.median(runs["off"][op]), 1),
            "rounds_on": [round(v, 1) for v in runs["on"][op]],
            "rounds_off": [round(v, 1) for v in runs["off"][op]],
        }
        for op in runs["on"]
    }
    # The feed: everything the bench wrote is in the log now (tombstones of the rounds with
    # the triggers on, and the warm-up's); add live entries to render.
    for i in range(args.writes):
        client.post(
            DIARY,
            {"label": f"Kept {i}", "energy_kcal": 100, "meal": "dinner", "consumed_at": "2026-11-21T19:00:00Z"},
            content_type="application/json",
        )
    feed = {}
    for kind in ("upserts and tombstones", "upserts"):
        if kind == "upserts":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM fithub_change WHERE op = 'delete' AND user_id = %s", [user.pk])
        per_change = []
        total = 0
        for _ in range(args.rounds):
            cursor, count, start = None, 0, time.perf_counter()
            while True:
                body = client.get(FEED, {"since": cursor} if cursor else {}).json()
                count += len(body["changes"])
                cursor = body["cursor"]
                if not body["has_more"]:
                    break
            per_change.append((time.perf_counter() - start) / count * 1e6)
            total = count
        feed[kind] = {"changes": total, "us_per_change": round(statistics.median(per_change), 1)}
    result = {"writes": args.writes, "rounds": args.rounds, "database": explained, "api": writes, "feed": feed}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
