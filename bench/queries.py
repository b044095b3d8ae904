"""SQL statements per request, counted in process, and EXPLAIN ANALYZE of the diary queries.

    DATABASE_URL=... uv run python bench/queries.py EMAIL [EMAIL...]  -> one JSON object on stdout

Each endpoint is requested through Django's test client with a real access token, with
CaptureQueriesContext on every database alias (primary and replicas), once per given user
(users with different amounts of history show whether the count is constant). The SQL
FitHub sent for the diary list, the day summary and the recent and frequent foods is then
EXPLAINed on the primary for each user, each statement of a round trip on its own, so 1 and 10 years of history can be
compared plan for plan (node types, rows, buffers, and the median execution time of a few
runs); food search, which reads no user's history, for the last user only.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")

import django

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.nutrition.models import DiaryEntry  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services import start_session  # noqa: E402


def endpoints() -> dict[str, str]:
    today = datetime.now(UTC).date()
    week = today - timedelta(days=6)
    return {
        "diary_list": "/api/v1/diary/",
        "diary_list_200": "/api/v1/diary/?page_size=200",
        "day_summary": f"/api/v1/diary/summary/?start={today}&end={today}",
        "week_summary": f"/api/v1/diary/summary/?start={week}&end={today}",
        "food_search": "/api/v1/foods/?search=chicken",
        "recent_foods": "/api/v1/foods/recent/",
        "frequent_foods": "/api/v1/foods/frequent/",
        "measurements": "/api/v1/measurements/",
        "goals": "/api/v1/goals/",
        "me": "/api/v1/users/me/",
    }


def measure(email: str) -> tuple[dict, dict]:
    user = User.objects.get(email=email)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {start_session(user=user).access}", SERVER_NAME="127.0.0.1")
    counts, sql = {}, {}
    for name, path in endpoints().items():
        client.get(path)  # warm: first-request work (replica health checks) is not per request
        with ExitStack() as stack:
            contexts = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
            response = client.get(path)
        queries = [q["sql"] for c in contexts for q in c.captured_queries]
        counts[name] = {"status": response.status_code, "queries": len(queries)}
        sql[name] = queries
    return counts, sql


def statements_of(sql: str) -> list[str]:
    """The statements of one execute: fithub.db.statements.fetch_together sends several, joined
    by "; ". Split outside quoted literals."""
    parts, start, quoted = [], 0, False
    for index, char in enumerate(sql):
        if char == "'":
            quoted = not quoted  # a doubled quote inside a literal flips twice
        elif char == ";" and not quoted:
            parts.append(sql[start:index].strip())
            start = index + 1
    parts.append(sql[start:].strip())
    return [part for part in parts if part]


def explain(statement: str) -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def plan_figures(statement: str, runs: int = 5) -> dict:
    """What the plan does, from EXPLAIN's JSON: its node types, the rows and shared buffers of
    its top node, and the median execution time of `runs` runs (the first warms the cache)."""
    times, plan = [], None
    with connections["default"].cursor() as cursor:
        for _ in range(runs + 1):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement)
            document = cursor.fetchone()[0]
            document = json.loads(document) if isinstance(document, str) else document
            plan = document[0]
            times.append(plan["Execution Time"])
    top = plan["Plan"]
    return {
        "nodes": [
            f"{node['Node Type']}" + (f" on {node['Index Name']}" if "Index Name" in node else "")
            for node in _nodes(top)
        ],
        "rows": top.get("Actual Rows"),
        "shared_hit_blocks": top.get("Shared Hit Blocks", 0),
        "shared_read_blocks": top.get("Shared Read Blocks", 0),
        "execution_ms": round(statistics.median(times[1:]), 3),
    }


def main() -> None:
    result = {"per_user": {}, "explain": {}}
    per_user_sql = {}
    for email in sys.argv[1:]:
        entries = DiaryEntry.objects.filter(user__email=email).count()
        counts, per_user_sql[email] = measure(email)
        result["per_user"][email] = {"diary_entries": entries, "endpoints": counts}
    explained = {
        "diary_list": ("nutrition_diaryentry", list(per_user_sql)),
        "day_summary": ("FROM", list(per_user_sql)),
        "food_search": ('FROM "nutrition_food"', list(per_user_sql)[-1:]),
        "recent_foods": ('FROM "nutrition_food"', list(per_user_sql)),
        "frequent_foods": ('FROM "nutrition_food"', list(per_user_sql)),
    }
    for name, (table, emails) in explained.items():
        result["explain"][name] = [
            {
                "user": email,
                "diary_entries": result["per_user"][email]["diary_entries"],
                "sql": statement,
                "plan": explain(statement),
                **plan_figures(statement),
            }
            for email in emails
            for sent in per_user_sql[email].get(name, [])
            for statement in statements_of(sent)
            if table in statement
        ]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
