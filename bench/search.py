"""Food search on the full USDA table: relevance and latency, in process.

    DATABASE_URL=... uv run python bench/search.py [--rounds 5]  -> one JSON object on stdout

Needs the foods loaded (`manage.py load_foods`). Relevance: hit@3 and MRR over the labelled
queries of tests/nutrition/data/search_relevance.json (tests/nutrition/relevance.py, as the
relevance test computes them). Latency: each labelled query, and the prefixes of 3 letters or
more a person types on the way to it ("chi", "chic", ... "chicken b", ...), requested through
Django's test client by an anonymous caller and by a signed-in one with preferences (favorites
and dislikes among the results), `--rounds` times in interleaved order after a warm-up: the
whole view (routing, the statement, serialising 20 foods with their portions), without HTTP
and gunicorn, which `bench/run.py`'s wrk runs add. Also the SQL statements per request (min and
max over every request), the database's time per request (the statements' round trips) and,
apart from the machine's load, PostgreSQL's own execution time of each page statement
(EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")
# On the primary: the bench user's preferences are read back at once, and the statements are
# captured on one alias (a replica runs the same statement on the same rows).
os.environ.pop("DATABASE_REPLICA_URLS", None)
for scope in ("ANON", "USER", "IP"):  # one caller sends thousands of searches a minute here
    os.environ[f"THROTTLE_{scope}"] = "1000000/min"

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from apps.nutrition.models import Food, FoodPreference  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services import start_session  # noqa: E402
from bench.stats import percentile  # noqa: E402
from tests.nutrition.relevance import DEPTH, HIT_AT_3_FLOOR, MRR_FLOOR, evaluate, load_labels  # noqa: E402

FOODS = "/api/v1/foods/"
EMAIL = "search-bench@bench.example"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="requests per query and caller")
    parser.add_argument("--seed", type=int, default=17)
    return parser.parse_args()


def prefixes(query: str) -> list[str]:
    return [query[:end] for end in range(3, len(query))]


def searcher(client: Client):
    def search(query: str) -> list[str]:
        response = client.get(FOODS, {"search": query, "page_size": DEPTH})
        if response.status_code != 200:
            raise SystemExit(f"search {query!r}: {response.status_code} {response.content[:200]!r}")
        return [food["source_id"] for food in response.json()["results"]]

    return search


def signed_in_client() -> Client:
    """A user who marked some foods favorite and some disliked, among the first results."""
    user, _ = User.objects.get_or_create(email=EMAIL, defaults={"display_name": "search bench"})
    foods = list(Food.objects.filter(user__isnull=True, name__icontains="chicken").order_by("name")[:40])
    for index, food in enumerate(foods):
        FoodPreference.objects.update_or_create(
            user=user, food=food, defaults={"favorite": index % 4 == 0, "dislike": index % 4 == 1}
        )
    return Client(HTTP_AUTHORIZATION=f"Bearer {start_session(user=user).access}", SERVER_NAME="127.0.0.1")


def latency(clients: dict[str, Client], queries: list[str], rounds: int, seed: int) -> dict:
    work = [(name, query) for name in clients for query in queries]
    for name, query in work:  # warm: the statement cache compiles each shape once per process
        clients[name].get(FOODS, {"search": query})
    times: dict[str, list[float]] = {name: [] for name in clients}
    sql_ms: list[float] = []
    statements: list[int] = []
    shuffle = random.Random(seed)  # noqa: S311 (an order, not a secret)
    for _ in range(rounds):
        shuffle.shuffle(work)
        for name, query in work:
            with CaptureQueriesContext(connections["default"]) as captured:
                started = time.perf_counter()
                response = clients[name].get(FOODS, {"search": query})
                times[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"search {query!r}: {response.status_code}")
            statements.append(len(captured))
            sql_ms.append(sum(float(entry["time"]) for entry in captured) * 1000)

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "requests": len(ordered),
            **{f"p{pct}_ms": round(percentile(ordered, pct), 2) for pct in (50, 95, 99)},
            "max_ms": round(ordered[-1], 2),
        }

    everything = [value for values in times.values() for value in values]
    return {
        "all": summary(everything),
        **{name: summary(values) for name, values in times.items()},
        "sql": summary(sql_ms),
        "statements_per_request": {"min": min(statements), "max": max(statements)},
    }


def execution(client: Client, queries: list[str], rounds: int) -> dict:
    """The database's own time for each query's page statement (EXPLAIN ANALYZE's execution
    time, the median of `rounds`): what the ranking costs PostgreSQL, apart from the client
    and from waiting for a CPU on a loaded machine."""
    times = []
    for query in queries:
        with CaptureQueriesContext(connections["default"]) as captured:
            client.get(FOODS, {"search": query})
        with connections["default"].cursor() as cursor:
            runs = []
            for _ in range(rounds):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + captured[-1]["sql"])
                plan = cursor.fetchone()[0]
                runs.append((plan[0] if isinstance(plan, list) else json.loads(plan)[0])["Execution Time"])
        times.append(sorted(runs)[len(runs) // 2])
    ordered = sorted(times)
    return {
        "statements": len(ordered),
        **{f"p{pct}_ms": round(percentile(ordered, pct), 2) for pct in (50, 95, 99)},
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    args = arguments()
    if not Food.objects.filter(user__isnull=True).exists():
        sys.exit("no public foods: run `manage.py load_foods` first")
    labels = load_labels()
    anonymous = Client(SERVER_NAME="127.0.0.1")
    report = evaluate(searcher(anonymous), labels)
    typed = sorted({query for label in labels for query in [label.query, *prefixes(label.query)]})
    clients = {"anonymous": anonymous, "signed_in": signed_in_client()}
    started = time.monotonic()
    result = {
        "foods": Food.objects.filter(user__isnull=True).count(),
        "relevance": {
            "queries": report.queries,
            "hit_at_3": round(report.hit_at_3, 3),
            "mrr": round(report.mrr, 3),
            "below_top_3": report.misses(),
            "floors": {"hit_at_3": HIT_AT_3_FLOOR, "mrr": MRR_FLOOR},
        },
        "latency": {
            "queries": len(typed),
            "rounds": args.rounds,
            "labelled": latency(clients, [label.query for label in labels], args.rounds, args.seed),
            "typed": latency(clients, typed, args.rounds, args.seed),
        },
        "execution": {
            "labelled": execution(anonymous, [label.query for label in labels], args.rounds),
            "typed": execution(anonymous, typed, args.rounds),
        },
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    result["runtime_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
