# ruff: noqa: S608 - benchmark tooling: constant SQL identifiers, our own commands, loopback URLs
"""The floor: the diary list and day summary served by a minimal WSGI app, raw psycopg and hand-written SQL.

    DATABASE_URL=... gunicorn -c fithub/ops/gunicorn_conf.py bench.floor:app

Same JSON shapes as FitHub's GET /api/v1/diary/ (first cursor page, 50 newest entries) and
GET /api/v1/diary/summary/?start=&end=. The user id is taken from the JWT's `user_id` claim
WITHOUT verifying the signature (a benchmark floor, never a server to expose). One
connection per worker process, opened lazily (gunicorn forks before any request), to
FLOOR_DATABASE_URL (bench/run.py points it at the replica, where FitHub's reads go too) or
else DATABASE_URL.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import date, timedelta
from urllib.parse import parse_qs

import psycopg

NUTRIENTS = (
    "energy_kcal",
    "protein_g",
    "fat_g",
    "carbohydrate_g",
    "fiber_g",
    "sugars_g",
    "saturated_fat_g",
    "sodium_mg",
)
MACROS = NUTRIENTS[:4]
SLOTS = ("breakfast", "lunch", "dinner", "snack")
PAGE_SIZE = 50

LIST_SQL = f"""
SELECT id::text, food_id::text, portion_id, quantity, grams, label, meal,
       to_char(consumed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), local_date::text,
       saved_meal_id::text, {", ".join(NUTRIENTS)},
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
FROM nutrition_diaryentry WHERE user_id = %s
ORDER BY consumed_at DESC, id DESC LIMIT {PAGE_SIZE + 1}
"""
LIST_COLUMNS = (
    "id",
    "food",
    "portion",
    "quantity",
    "grams",
    "label",
    "meal",
    "consumed_at",
    "local_date",
    "saved_meal",
    *NUTRIENTS,
    "created_at",
    "updated_at",
)

_sums = ["count(*)"] + [f"sum({name})" for name in NUTRIENTS]
_sums += [f"sum({name}) FILTER (WHERE meal = '{slot}')" for slot in SLOTS for name in MACROS]
SUMMARY_SQL = f"""
SELECT local_date, {", ".join(_sums)}
FROM nutrition_diaryentry WHERE user_id = %s AND local_date BETWEEN %s AND %s
GROUP BY local_date
"""

_conn: psycopg.Connection | None = None


def connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(os.environ.get("FLOOR_DATABASE_URL") or os.environ["DATABASE_URL"], autocommit=True)
    return _conn


def user_id(environ) -> str | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        return None
    try:
        payload = header[7:].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["user_id"])
    except (IndexError, ValueError, KeyError):
        return None


def diary_list(user: str, query: dict) -> dict:
    rows = connection().execute(LIST_SQL, (user,)).fetchall()
    results = [dict(zip(LIST_COLUMNS, row, strict=True)) | {"warnings": []} for row in rows[:PAGE_SIZE]]
    following = "/api/v1/diary/?cursor=next" if len(rows) > PAGE_SIZE else None
    return {"next": following, "previous": None, "results": results}


def summary(user: str, query: dict) -> dict:
    start = date.fromisoformat(query["start"][0])
    end = date.fromisoformat(query["end"][0])
    rows = connection().execute(SUMMARY_SQL, (user, start, end)).fetchall()
    by_day = {row[0]: row for row in rows}
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = by_day.get(day)
        values = [v or 0.0 for v in row[2:]] if row else [0.0] * (len(NUTRIENTS) + len(SLOTS) * len(MACROS))
        meals = values[len(NUTRIENTS) :]
        days.append(
            {
                "date": day.isoformat(),
                "entry_count": row[1] if row else 0,
                "totals": {name: round(v, 2) for name, v in zip(NUTRIENTS, values, strict=False)},
                "by_meal": {
                    slot: {name: round(meals[i * 4 + j], 2) for j, name in enumerate(MACROS)}
                    for i, slot in enumerate(SLOTS)
                },
            }
        )
    return {"start": start.isoformat(), "end": end.isoformat(), "days": days}


ROUTES = {"/api/v1/diary/": diary_list, "/api/v1/diary/summary/": summary}


def app(environ, start_response):
    handler = ROUTES.get(environ.get("PATH_INFO", ""))
    if handler is None:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"detail":"not found"}']
    user = user_id(environ)
    if user is None:
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"detail":"no token"}']
    try:
        body = json.dumps(handler(user, parse_qs(environ.get("QUERY_STRING", "")))).encode()
    except (KeyError, ValueError):
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        return [b'{"detail":"bad query"}']
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
