"""A mobile app's day through the generated Python client (make contract, harness/contract.py).

Written as a client developer would write it against `fithub_client`, the package
openapi-python-client generates from the live /api/schema/: register, log in, search foods
(anonymous and logged in), log a food from the search and a quick-add, read the day's
summary, record weights in pounds, read the trend, set a goal and read its progress, sync
everything through the change feed (a full sync page by page, then an empty one from its
cursor), refresh the tokens, log out, and delete the account. Every response is parsed into the generated
models and checked; a status the step does not expect fails the journey, and so does one the
schema does not document (`raise_on_unexpected_status`). `mypy --strict` checks this file
against the generated client: a field the schema leaves optional although the server always
sends it would show there as `X | Unset`.

    python tests/contract/journey.py http://127.0.0.1:8000   (with fithub_client importable)
"""

from __future__ import annotations

import argparse
import datetime
import math
import sys
import uuid
from http import HTTPStatus
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fithub_client import AuthenticatedClient, Client
from fithub_client.api.auth import (
    auth_logout_create,
    auth_register_create,
    auth_token_create,
    auth_token_refresh_create,
)
from fithub_client.api.diary import diary_create, diary_summary_retrieve
from fithub_client.api.foods import foods_list
from fithub_client.api.goals import goals_create, goals_progress_retrieve
from fithub_client.api.measurements import measurements_create, measurements_trend_retrieve
from fithub_client.api.sync import sync_changes_retrieve
from fithub_client.api.users import users_me_destroy, users_me_partial_update, users_me_retrieve
from fithub_client.models import (
    AccountDeleteRequest,
    ChangesPage,
    DiaryEntry,
    DiaryEntryWriteRequest,
    DiarySummary,
    ErrorResponse401,
    Goal,
    GoalDirectionEnum,
    GoalProgress,
    GoalRequest,
    LoginRequest,
    LogoutRequest,
    MealSlotEnum,
    Measurement,
    MeasurementRequest,
    MeasurementTrend,
    PaginatedFoodList,
    PatchedUserRequest,
    RefreshRequest,
    RegisterRequest,
    StatusEnum,
    SyncOpEnum,
    TokenPair,
    UnitSystemEnum,
    User,
)
from fithub_client.types import UNSET, Response, Unset

T = TypeVar("T")
POUND_KG = 0.45359237
TIMEZONE = "Europe/Paris"


class JourneyError(AssertionError):
    """A step got something other than what the contract promises."""


def expect(response: Response[Any], status: HTTPStatus, model: type[T]) -> T:
    """The parsed body of a response that must have `status` and parse into `model`."""
    if response.status_code != status:
        raise JourneyError(
            f"expected {status.value} {model.__name__}, got {response.status_code}: {response.content!r}"
        )
    if not isinstance(response.parsed, model):
        raise JourneyError(f"{status.value} did not parse into {model.__name__}: {response.parsed!r}")
    return response.parsed


def expect_no_content(response: Response[Any]) -> None:
    if response.status_code != HTTPStatus.NO_CONTENT or response.content:
        raise JourneyError(f"expected an empty 204, got {response.status_code}: {response.content!r}")


def check(condition: bool, what: str) -> None:
    if not condition:
        raise JourneyError(what)


def step(name: str) -> None:
    print(f"journey: {name}", flush=True)


def close(a: float, b: float, *, tolerance: float = 0.01) -> bool:
    return math.isclose(a, b, abs_tol=tolerance)


def journey(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    email = f"journey-{uuid.uuid4().hex[:12]}@fithub.example"
    password = "a journey password of some length"

    step("register")
    user = expect(
        auth_register_create.sync_detailed(
            client=anonymous, body=RegisterRequest(email=email, password=password, display_name="Journey")
        ),
        HTTPStatus.CREATED,
        User,
    )
    check(user.email == email and user.display_name == "Journey", f"registered {user!r}")
    check(user.unit_system == UnitSystemEnum.METRIC, f"unit system {user.unit_system!r}")

    step("login")
    pair = expect(
        auth_token_create.sync_detailed(client=anonymous, body=LoginRequest(email=email, password=password)),
        HTTPStatus.OK,
        TokenPair,
    )
    me = AuthenticatedClient(base_url=base_url, token=pair.access, raise_on_unexpected_status=True)
    profile = expect(
        users_me_partial_update.sync_detailed(client=me, body=PatchedUserRequest(timezone=TIMEZONE)),
        HTTPStatus.OK,
        User,
    )
    check(profile.id == user.id and profile.timezone == TIMEZONE, f"profile {profile!r}")
    zone = ZoneInfo(profile.timezone)

    step("food search, anonymous")
    public = expect(foods_list.sync_detailed(client=anonymous, search="banana"), HTTPStatus.OK, PaginatedFoodList)
    check(public.count >= 1 and len(public.results) >= 1, f"no public banana: {public.count}")
    check(all(food.is_public and not food.is_favorite for food in public.results), "anonymous search: not public")
    check(any("banana" in food.name.lower() for food in public.results), "no banana in the anonymous search")

    step("food search, logged in")
    found = expect(foods_list.sync_detailed(client=me, search="banana", page_size=5), HTTPStatus.OK, PaginatedFoodList)
    check(1 <= len(found.results) <= 5, f"{len(found.results)} results for page_size=5")
    banana = next(food for food in found.results if food.energy_kcal is not None)
    check(banana.energy_kcal is not None and banana.energy_kcal > 0, f"{banana.name}: no energy")
    per_100g = banana.energy_kcal or 0.0

    step("log a food from the search")
    now = datetime.datetime.now(tz=zone)
    logged = expect(
        diary_create.sync_detailed(
            client=me,
            body=DiaryEntryWriteRequest(meal=MealSlotEnum.BREAKFAST, consumed_at=now, food=banana.id, grams=120),
        ),
        HTTPStatus.CREATED,
        DiaryEntry,
    )
    check(logged.food == banana.id and logged.label == banana.name, f"logged {logged!r}")
    check(logged.grams == 120 and close(logged.energy_kcal, per_100g * 1.2), f"logged energy {logged.energy_kcal}")
    check(logged.local_date == now.date(), f"local date {logged.local_date} for {now.isoformat()}")

    step("quick-add")
    quick = expect(
        diary_create.sync_detailed(
            client=me,
            body=DiaryEntryWriteRequest(
                meal=MealSlotEnum.SNACK, consumed_at=now, label="Espresso", energy_kcal=3, protein_g=0.1
            ),
        ),
        HTTPStatus.CREATED,
        DiaryEntry,
    )
    check(quick.food is None and quick.grams is None and quick.label == "Espresso", f"quick-add {quick!r}")
    check(close(quick.energy_kcal, 3) and close(quick.protein_g, 0.1), f"quick-add energy {quick.energy_kcal}")

    step("day summary")
    today = logged.local_date
    summary = expect(
        diary_summary_retrieve.sync_detailed(client=me, start=today, end=today), HTTPStatus.OK, DiarySummary
    )
    check(summary.start == today and summary.end == today and len(summary.days) == 1, f"summary {summary!r}")
    day = summary.days[0]
    check(day.date == today and day.entry_count == 2, f"day {day.date}: {day.entry_count} entries")
    check(close(day.totals.energy_kcal, logged.energy_kcal + quick.energy_kcal), f"total {day.totals.energy_kcal}")
    check(close(day.by_meal.breakfast.energy_kcal, logged.energy_kcal), "breakfast energy")
    check(close(day.by_meal.snack.energy_kcal, quick.energy_kcal) and day.by_meal.lunch.energy_kcal == 0, "by meal")
    check(day.target is None, f"a target nobody set: {day.target!r}")

    step("weights in lb")
    weights = []
    for days_ago, pounds in ((2, 181.0), (1, 180.0), (0, 179.2)):
        measured_at = now - datetime.timedelta(days=days_ago)
        weight = expect(
            measurements_create.sync_detailed(
                client=me,
                body=MeasurementRequest(type_="weight", value=pounds, unit="lb", measured_at=measured_at),
            ),
            HTTPStatus.CREATED,
            Measurement,
        )
        check(weight.type_key == "weight" and weight.stored_unit == "kg", f"weight {weight!r}")
        check(weight.entered_value == pounds and weight.entered_unit == "lb", f"entered {weight.entered_value}")
        check(close(weight.value, pounds * POUND_KG, tolerance=0.0001), f"{pounds} lb stored as {weight.value} kg")
        check(weight.note == "", f"note {weight.note!r}")
        weights.append(weight)

    step("trend")
    trend = expect(
        measurements_trend_retrieve.sync_detailed(
            client=me, type_="weight", start=today - datetime.timedelta(days=6), end=today
        ),
        HTTPStatus.OK,
        MeasurementTrend,
    )
    check(trend.unit == "kg" and [point.count for point in trend.points] == [1, 1, 1], f"trend {trend!r}")
    check(trend.points[-1].date == today and close(trend.points[-1].value, weights[-1].value), "last point")
    check(trend.rate_per_week is not None and trend.rate_per_week < 0, f"rate {trend.rate_per_week}")

    step("goal")
    target_date = today + datetime.timedelta(days=120)
    goal = expect(
        goals_create.sync_detailed(
            client=me, body=GoalRequest(type_="weight", target_value=75, target_date=target_date)
        ),
        HTTPStatus.CREATED,
        Goal,
    )
    check(goal.type_key == "weight" and goal.unit == "kg" and goal.status == StatusEnum.ACTIVE, f"goal {goal!r}")
    check(goal.target_value == 75 and goal.target_date == target_date, f"goal target {goal!r}")
    check(goal.direction == GoalDirectionEnum.DOWN, f"direction {goal.direction!r}")
    check(close(goal.start_value, weights[-1].value, tolerance=0.0001), f"start value {goal.start_value}")
    check(goal.start_date == today, f"start date {goal.start_date}")

    step("goal progress")
    progress = expect(goals_progress_retrieve.sync_detailed(goal.id, client=me), HTTPStatus.OK, GoalProgress)
    check(progress.goal.id == goal.id and progress.direction == GoalDirectionEnum.DOWN, f"progress {progress!r}")
    check(close(progress.current_value, weights[-1].value, tolerance=0.0001), f"current {progress.current_value}")
    check(close(progress.remaining, weights[-1].value - 75, tolerance=0.0001), f"remaining {progress.remaining}")
    check(0 <= progress.percent_complete <= 100, f"percent {progress.percent_complete}")

    step("sync")
    synced: dict[tuple[str, uuid.UUID], object] = {}
    since: str | Unset = UNSET
    while True:
        page = expect(sync_changes_retrieve.sync_detailed(client=me, limit=2, since=since), HTTPStatus.OK, ChangesPage)
        check(len(page.changes) <= 2, f"{len(page.changes)} changes for limit=2")
        for change in page.changes:
            check(change.op == SyncOpEnum.UPSERT and change.data is not None, f"a full sync's {change!r}")
            synced[(change.type_.value, change.id)] = change.data
        since = page.cursor
        if not page.has_more:
            break
    check({pk for kind, pk in synced if kind == "diary_entry"} == {logged.id, quick.id}, "diary entries synced")
    measured = [data for (kind, _), data in synced.items() if kind == "measurement"]
    check(len(measured) == 3 and all(isinstance(data, Measurement) for data in measured), "three weights synced")
    synced_goal = synced.get(("goal", goal.id))
    check(isinstance(synced_goal, Goal) and synced_goal.version == goal.version, f"synced goal {synced_goal!r}")
    check(isinstance(synced.get(("profile", user.id)), User), "the profile synced")
    nothing = expect(sync_changes_retrieve.sync_detailed(client=me, since=since), HTTPStatus.OK, ChangesPage)
    check(nothing.changes == [] and not nothing.has_more and nothing.cursor == since, f"after the sync {nothing!r}")

    step("token refresh")
    refreshed = expect(
        auth_token_refresh_create.sync_detailed(client=anonymous, body=RefreshRequest(refresh=pair.refresh)),
        HTTPStatus.OK,
        TokenPair,
    )
    check(refreshed.access != pair.access and refreshed.refresh != pair.refresh, "refresh gave the same pair")
    me = AuthenticatedClient(base_url=base_url, token=refreshed.access, raise_on_unexpected_status=True)
    check(expect(users_me_retrieve.sync_detailed(client=me), HTTPStatus.OK, User).id == user.id, "refreshed me")

    step("logout")
    expect_no_content(auth_logout_create.sync_detailed(client=me, body=LogoutRequest(refresh=refreshed.refresh)))
    ended = expect(users_me_retrieve.sync_detailed(client=me), HTTPStatus.UNAUTHORIZED, ErrorResponse401)
    check(len(ended.errors) >= 1, f"401 without errors: {ended!r}")

    step("delete the account")
    pair = expect(
        auth_token_create.sync_detailed(client=anonymous, body=LoginRequest(email=email, password=password)),
        HTTPStatus.OK,
        TokenPair,
    )
    me = AuthenticatedClient(base_url=base_url, token=pair.access, raise_on_unexpected_status=True)
    expect_no_content(users_me_destroy.sync_detailed(client=me, body=AccountDeleteRequest(password=password)))
    gone = expect(
        auth_token_create.sync_detailed(client=anonymous, body=LoginRequest(email=email, password=password)),
        HTTPStatus.UNAUTHORIZED,
        ErrorResponse401,
    )
    check(len(gone.errors) >= 1, f"login after deletion: {gone!r}")
    print("journey: every step passed", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base_url", help="the server, e.g. http://127.0.0.1:8000")
    args = parser.parse_args(argv)
    try:
        journey(args.base_url)
    except JourneyError as error:
        print(f"journey: FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
