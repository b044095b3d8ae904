"""SQL statements per request, counted in process, and EXPLAIN ANALYZE of the diary queries.

    DATABASE_URL=... uv run python bench/queries.py EMAIL [EMAIL...]  -> one JSON object on stdout

Each endpoint is requested through Django's test client with a real access token, with
CaptureQueriesContext on every database alias (primary and replicas), once per given user
(users with different amounts of history show whether the count is constant). The SQL
FitHub sent for the diary list, the day summary and food search is then EXPLAINed on the
primary, each statement of a round trip on its own.
"""

from __future__ import annotations

import json
import os
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
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from apps.nutrition.models import DiaryEntry  # noqa: E402
from apps.users.models import User  # noqa: E402


def endpoints() -> dict[str, str]:
    today = datetime.now(UTC).date()
    week = today - timedelta(days=6)
    return {
        "diary_list": "/api/v1/diary/",
        "diary_list_200": "/api/v1/diary/?page_size=200",
        "day_summary": f"/api/v1/diary/summary/?start={today}&end={today}",
        "week_summary": f"/api/v1/diary/summary/?start={week}&end={today}",
        "food_search": "/api/v1/foods/?search=chicken",
        "measurements": "/api/v1/measurements/",
        "goals": "/api/v1/goals/",
        "me": "/api/v1/users/me/",
    }


def measure(email: str) -> tuple[dict, dict]:
    user = User.objects.get(email=email)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", SERVER_NAME="127.0.0.1")
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


def main() -> None:
    result = {"per_user": {}, "explain": {}}
    last_sql = {}
    for email in sys.argv[1:]:
        entries = DiaryEntry.objects.filter(user__email=email).count()
        counts, last_sql = measure(email)
        result["per_user"][email] = {"diary_entries": entries, "endpoints": counts}
    explained = {
        "diary_list": "nutrition_diaryentry",
        "day_summary": "FROM",
        "food_search": 'FROM "nutrition_food"',
    }
    for name, table in explained.items():
        statements = [s for sent in last_sql.get(name, []) for s in statements_of(sent) if table in s]
        result["explain"][name] = [{"sql": s, "plan": explain(s)} for s in statements]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
