"""What bench/mix.lua needs: a line per bench user, and public food ids to log.

    DATABASE_URL=... uv run python bench/mixdata.py OUT_FILE --users N --words chicken,apple,...
    -> OUT_FILE: "email access refresh goal_id today month_start" per user
    -> stdout: one JSON object {"users": N, "foods": [public food ids]}

Tokens are minted in process (a session each, the same signed JWTs as POST /api/v1/auth/token/
returns), so thousands of users cost no password hashing;
the mix still logs in over HTTP at its own share. `today` is the user's local day (their
profile's time zone), `month_start` 29 days before it. The foods are, per search word, the
first public food whose name contains it: what a user who searched would log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402

from apps.goals.models import Goal  # noqa: E402
from apps.nutrition.models import Food  # noqa: E402
from apps.users.models import User  # noqa: E402
from apps.users.services import start_session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--users", type=int, required=True, help="the first N users bench<N>@bench.example")
    parser.add_argument("--words", required=True, help="comma-separated search words")
    args = parser.parse_args()

    emails = [f"bench{n}@bench.example" for n in range(1, args.users + 1)]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    goals = {}
    for goal in Goal.objects.filter(user__in=users.values(), status="active").order_by("created_at"):
        goals.setdefault(goal.user_id, goal.pk)
    lines = []
    with transaction.atomic():
        for email in emails:
            user = users.get(email)
            if user is None or user.pk not in goals:
                sys.exit(f"{email} or its goal is missing: run bench/generate.py with --users {args.users} or more")
            pair = start_session(user=user)
            today = user.local_today()
            month_start = today - timedelta(days=29)
            lines.append(f"{email} {pair.access} {pair.refresh} {goals[user.pk]} {today} {month_start}")
    args.out.write_text("\n".join(lines) + "\n")

    foods = []
    for word in args.words.split(","):
        food = Food.objects.filter(user__isnull=True, name__icontains=word).order_by("pk").first()
        if food is not None and str(food.pk) not in foods:
            foods.append(str(food.pk))
    if not foods:
        sys.exit("no public food matches the search words: run `manage.py load_foods` first")
    print(json.dumps({"users": len(lines), "foods": foods}))


if __name__ == "__main__":
    main()
