import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.goals.models import Goal
from tests.conftest import client_for
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

GOALS = reverse("goal-list")
MEASUREMENTS = reverse("measurement-list")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def detail(pk) -> str:
    return reverse("goal-detail", args=[pk])


def progress(pk) -> str:
    return reverse("goal-progress", args=[pk])


def daily_series(user, measurement_type, first: Decimal, step: Decimal, days: int = 14):
    """One measurement a day at 00:00 UTC, the last one today: first, first + step, ..."""
    start = today() - dt.timedelta(days=days - 1)
    for k in range(days):
        MeasurementFactory(
            user=user,
            type=measurement_type,
            value=first + step * k,
            measured_at=dt.datetime.combine(start + dt.timedelta(days=k), dt.time(0), tzinfo=dt.UTC),
        )


def test_create_goal_defaults_start_to_latest_measurement_and_today(auth_client, user, builtin_types):
    MeasurementFactory(user=user, value=Decimal("81.5"), measured_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    MeasurementFactory(user=user, value=Decimal("80.5"), measured_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    target_date = (today() + dt.timedelta(days=90)).isoformat()
    response = auth_client.post(GOALS, {"type": "weight", "target_value": 75, "target_date": target_date})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["start_value"], body["start_date"], body["status"], body["direction"]) == (
        80.5,
        today().isoformat(),
        "active",
        "down",
    )
    assert Goal.objects.get(pk=body["id"]).user == user


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"target_value": 80}, None),  # same as the start value
        ({"target_value": 0}, "target_value"),
        ({"target_value": "NaN"}, "target_value"),
        ({"start_value": 9000}, "start_value"),
        ({"target_date": "2020-01-01"}, None),
        ({"target_date": "not a date"}, "target_date"),
        ({"type": "nope"}, "type"),
    ],
)
def test_invalid_goals_are_400s(auth_client, user, builtin_types, payload, attr):
    MeasurementFactory(user=user, value=Decimal(80))
    base = {"type": "weight", "target_value": 75, "target_date": (today() + dt.timedelta(days=30)).isoformat()}
    response = auth_client.post(GOALS, {**base, **payload})
    assert response.status_code == 400, response.json()
    if attr is not None:
        assert response.json()["errors"][0]["attr"] == attr
    assert not Goal.objects.exists()


def test_start_value_is_required_without_measurements(auth_client, builtin_types):
    target_date = (today() + dt.timedelta(days=30)).isoformat()
    response = auth_client.post(GOALS, {"type": "waist", "target_value": 80, "target_date": target_date})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "start_value"
    response = auth_client.post(
        GOALS, {"type": "waist", "target_value": 80, "start_value": 90, "target_date": target_date}
    )
    assert response.status_code == 201


def test_one_active_goal_per_type(auth_client, user, builtin_types):
    GoalFactory(user=user)
    target_date = (today() + dt.timedelta(days=30)).isoformat()
    payload = {"type": "weight", "target_value": 70, "start_value": 80, "target_date": target_date}
    assert auth_client.post(GOALS, payload).status_code == 400
    GoalFactory(user=user, status=Goal.Status.ABANDONED)  # abandoned ones do not count
    assert auth_client.patch(detail(Goal.objects.get(status="active").pk), {"status": "abandoned"}).status_code == 200
    assert auth_client.post(GOALS, payload).status_code == 201


def test_goal_on_another_users_custom_type_is_refused(auth_client, builtin_types):
    theirs = MeasurementTypeFactory()
    target_date = (today() + dt.timedelta(days=30)).isoformat()
    payload = {"type": str(theirs.pk), "target_value": 70, "start_value": 80, "target_date": target_date}
    response = auth_client.post(GOALS, payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "type"


def test_other_users_goals_are_404(auth_client, builtin_types):
    theirs = GoalFactory()
    for response in (
        auth_client.get(detail(theirs.pk)),
        auth_client.get(progress(theirs.pk)),
        auth_client.patch(detail(theirs.pk), {"status": "abandoned"}),
        auth_client.delete(detail(theirs.pk)),
    ):
        assert response.status_code == 404
    assert auth_client.get(GOALS).json()["results"] == []


def test_progress_of_a_losing_goal(auth_client, user, builtin_types):
    # 81.3, 81.2, ..., 80.0 today: the 7-day average is a line 3 days behind, falling 0.7 kg a week.
    daily_series(user, builtin_types["weight"], Decimal("81.3"), Decimal("-0.1"))
    goal = GoalFactory(user=user, start_value=82, target_value=76, target_date=today() + dt.timedelta(days=60))
    body = auth_client.get(progress(goal.pk)).json()
    assert body["direction"] == "down"
    assert body["current_value"] == 80.0
    assert body["percent_complete"] == 33.3  # (80 - 82) / (76 - 82)
    assert body["remaining"] == 4.0
    assert body["trend_value"] == 80.3  # mean of the last 7 days, 80.6 .. 80.0
    assert body["rate_per_week"] == -0.7
    # (76 - 80.3) / -0.7 kg a week = 43 days
    assert body["projected_date"] == (today() + dt.timedelta(days=43)).isoformat()
    assert body["on_track"] is True


def test_progress_of_a_gaining_goal_off_track(auth_client, user, builtin_types):
    # Arm: 30.00, 30.05, ..., 30.65 today; trend 30.5, rising 0.35 cm a week.
    daily_series(user, builtin_types["arm"], Decimal(30), Decimal("0.05"))
    goal = GoalFactory(
        user=user,
        type=builtin_types["arm"],
        start_value=30,
        target_value=33,
        target_date=today() + dt.timedelta(days=30),
    )
    body = auth_client.get(progress(goal.pk)).json()
    assert body["direction"] == "up"
    assert body["current_value"] == 30.65
    assert body["percent_complete"] == 21.7  # 0.65 / 3
    assert body["remaining"] == 2.35
    assert body["rate_per_week"] == 0.35
    # (33 - 30.5) / 0.35 cm a week = 50 days: after the target date.
    assert body["projected_date"] == (today() + dt.timedelta(days=50)).isoformat()
    assert body["on_track"] is False


def test_no_projection_when_the_trend_goes_the_wrong_way(auth_client, user, builtin_types):
    daily_series(user, builtin_types["weight"], Decimal(80), Decimal("0.1"))
    goal = GoalFactory(user=user, start_value=82, target_value=76)
    body = auth_client.get(progress(goal.pk)).json()
    assert body["rate_per_week"] == 0.7
    assert body["projected_date"] is None
    assert body["on_track"] is False
    assert body["percent_complete"] == 11.7  # 81.3 today: (81.3 - 82) / (76 - 82)


def test_goal_is_achieved_automatically_by_a_new_measurement(auth_client, user, builtin_types):
    MeasurementFactory(user=user, value=Decimal(80), measured_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    target_date = (today() + dt.timedelta(days=30)).isoformat()
    goal_id = auth_client.post(GOALS, {"type": "weight", "target_value": 78, "target_date": target_date}).json()["id"]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    auth_client.post(MEASUREMENTS, {"type": "weight", "value": 78.5, "measured_at": now.isoformat()})
    assert Goal.objects.get(pk=goal_id).status == "active"
    auth_client.post(MEASUREMENTS, {"type": "weight", "value": 171.5, "unit": "lb", "measured_at": now.isoformat()})
    goal = Goal.objects.get(pk=goal_id)  # 171.5 lb = 77.79 kg
    assert (goal.status, goal.achieved_at) == ("achieved", now)
    body = auth_client.get(progress(goal_id)).json()
    assert (body["percent_complete"], body["remaining"], body["on_track"]) == (100.0, 0, True)
    assert body["projected_date"] == today().isoformat()


def test_measurement_before_the_start_date_does_not_achieve(auth_client, user, builtin_types):
    goal = GoalFactory(user=user, start_value=80, target_value=78, start_date=today())
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=5)).isoformat()
    auth_client.post(MEASUREMENTS, {"type": "weight", "value": 77, "measured_at": old})
    goal.refresh_from_db()
    assert goal.status == "active"


def test_bulk_and_corrections_achieve_goals_too(auth_client, user, builtin_types):
    weight = GoalFactory(user=user, start_value=80, target_value=78, start_date=today() - dt.timedelta(days=10))
    waist = GoalFactory(
        user=user, type=builtin_types["waist"], start_value=90, target_value=85, start_date=today() - dt.timedelta(10)
    )
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    items = [
        {"type": "weight", "value": 79, "measured_at": when},
        {"type": "waist", "value": 84, "measured_at": when},
    ]
    assert auth_client.post(reverse("measurement-bulk"), {"items": items}).status_code == 201
    weight.refresh_from_db()
    waist.refresh_from_db()
    assert (weight.status, waist.status) == ("active", "achieved")
    row = user.measurement_set.get(type=builtin_types["weight"])
    auth_client.patch(reverse("measurement-detail", args=[row.pk]), {"value": 77.9})
    weight.refresh_from_db()
    assert weight.status == "achieved"


def test_status_changes_by_hand(auth_client, user, builtin_types):
    goal = GoalFactory(user=user)
    body = auth_client.patch(detail(goal.pk), {"status": "achieved"}).json()
    assert body["status"] == "achieved"
    assert body["achieved_at"] is not None
    body = auth_client.patch(detail(goal.pk), {"status": "active"}).json()
    assert (body["status"], body["achieved_at"]) == ("active", None)
    assert auth_client.patch(detail(goal.pk), {"status": "won"}).status_code == 400


def test_list_and_progress_query_counts_are_constant(auth_client, user, builtin_types, django_assert_max_num_queries):
    goal = GoalFactory(user=user)
    daily_series(user, builtin_types["weight"], Decimal(81), Decimal("-0.1"), days=3)
    # the goal with its user and type; the latest value and the daily means in one round trip
    with django_assert_max_num_queries(2):
        assert auth_client.get(progress(goal.pk)).status_code == 200
    daily_series(user, builtin_types["weight"], Decimal(81), Decimal("-0.01"), days=120)
    with django_assert_max_num_queries(2):
        assert auth_client.get(progress(goal.pk)).status_code == 200
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(GOALS).json()["results"]) == 1
    for key in ("waist", "hips", "chest", "neck", "arm", "thigh"):
        GoalFactory(user=user, type=builtin_types[key], start_value=50, target_value=45)
    with django_assert_max_num_queries(3):
        assert len(auth_client.get(GOALS, {"status": "active"}).json()["results"]) == 7
    assert len(client_for(UserFactory()).get(GOALS).json()["results"]) == 0


def test_goals_filter_by_type_and_status(auth_client, user, builtin_types):
    weight = GoalFactory(user=user)
    waist = GoalFactory(user=user, type=builtin_types["waist"], start_value=90, target_value=85)
    old = GoalFactory(user=user, status=Goal.Status.ABANDONED)

    def ids(params):
        return {row["id"] for row in auth_client.get(GOALS, params).json()["results"]}

    assert ids({"type": "weight"}) == {str(weight.pk), str(old.pk)}
    assert ids({"type": str(builtin_types["waist"].pk)}) == {str(waist.pk)}
    assert ids({"type": "weight", "status": "active"}) == {str(weight.pk)}
    assert ids({"type": "nope"}) == set()
    assert auth_client.get(GOALS, {"status": "won"}).status_code == 400


def _skip_constraint_checks(monkeypatch, model):
    """Simulate two simultaneous requests: both pass full_clean's SELECT for the unique
    constraint before either has inserted, so only the database notices the duplicate."""
    monkeypatch.setattr(model, "validate_constraints", lambda self, exclude=None: None)


def test_simultaneous_active_goals_for_one_type_are_a_400_not_a_500(auth_client, user, builtin_types, monkeypatch):
    GoalFactory(user=user)
    _skip_constraint_checks(monkeypatch, Goal)
    target_date = (today() + dt.timedelta(days=30)).isoformat()
    payload = {"type": "weight", "target_value": 70, "start_value": 80, "target_date": target_date}
    response = auth_client.post(GOALS, payload)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "unique",
            "detail": "You already have an active goal for this measurement type.",
            "attr": None,
        }
    ]
    assert Goal.objects.filter(user=user, status="active").count() == 1


def test_reactivating_a_goal_during_a_race_is_a_400_not_a_500(auth_client, user, builtin_types, monkeypatch):
    GoalFactory(user=user)
    abandoned = GoalFactory(user=user, status=Goal.Status.ABANDONED)
    _skip_constraint_checks(monkeypatch, Goal)
    response = auth_client.patch(detail(abandoned.pk), {"status": "active"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "unique"
    abandoned.refresh_from_db()
    assert abandoned.status == Goal.Status.ABANDONED


def test_start_value_required_error_is_documented(auth_client, builtin_types):
    schema = auth_client.get("/api/schema/", {"format": "json"}).json()
    documented = schema["paths"]["/api/v1/goals/"]["post"]["responses"]["400"]["x-error-codes"]
    [start_value] = [entry for entry in documented if entry["attr"] == "start_value"]
    assert "required" in start_value["codes"]


def _weigh(user, day: dt.date, value: str, hour: int = 7):
    MeasurementFactory(user=user, value=Decimal(value), measured_at=dt.datetime.combine(day, dt.time(hour), dt.UTC))


def test_start_value_defaults_to_the_value_on_the_start_date_not_the_latest(auth_client, user, builtin_types):
    month_ago = today() - dt.timedelta(days=30)
    _weigh(user, month_ago - dt.timedelta(days=3), "91.2")
    _weigh(user, month_ago, "90.0")
    _weigh(user, month_ago, "90.4", hour=21)  # later that day: the value on the start date
    _weigh(user, today() - dt.timedelta(days=1), "87.9")
    target_date = (today() + dt.timedelta(days=60)).isoformat()
    body = {"type": "weight", "target_value": 85, "target_date": target_date, "start_date": month_ago.isoformat()}
    goal = auth_client.post(GOALS, body).json()
    assert (goal["start_value"], goal["status"]) == (90.4, "active")
    assert auth_client.get(progress(goal["id"])).json()["percent_complete"] == 46.3  # 2.5 of 5.4 kg


def test_without_a_measurement_by_the_start_date_the_first_one_after_it_is_the_start(auth_client, user, builtin_types):
    start = today() - dt.timedelta(days=20)
    _weigh(user, start + dt.timedelta(days=2), "70.5")
    _weigh(user, start + dt.timedelta(days=9), "70.1")
    target_date = (today() + dt.timedelta(days=60)).isoformat()
    body = {"type": "weight", "target_value": 74, "target_date": target_date, "start_date": start.isoformat()}
    assert auth_client.post(GOALS, body).json()["start_value"] == 70.5


def test_a_goal_already_reached_when_created_is_achieved_at_once(auth_client, user, builtin_types):
    start = today() - dt.timedelta(days=30)
    _weigh(user, start, "90.0")
    _weigh(user, start + dt.timedelta(days=10), "87.9")  # reached, then lost
    _weigh(user, start + dt.timedelta(days=12), "88.3")
    _weigh(user, start + dt.timedelta(days=20), "87.8")  # reached again, and still
    _weigh(user, start + dt.timedelta(days=25), "87.5")
    target_date = (today() + dt.timedelta(days=60)).isoformat()
    body = {"type": "weight", "target_value": 88, "target_date": target_date, "start_date": start.isoformat()}
    response = auth_client.post(GOALS, body)
    assert response.status_code == 201, response.content
    goal = response.json()
    reached = dt.datetime.combine(start + dt.timedelta(days=20), dt.time(7), dt.UTC)
    assert (goal["status"], goal["achieved_at"]) == ("achieved", reached.isoformat().replace("+00:00", "Z"))
    # Not reached by the latest measurement: active.
    _weigh(user, today(), "88.6")
    again = auth_client.post(GOALS, {**body, "type": "weight", "target_value": 88.5}).json()
    assert again["status"] == "active"


def test_a_goal_reactivated_already_reached_is_achieved_at_once(auth_client, user, builtin_types):
    goal = GoalFactory(user=user, start_value=82, target_value=78, status="abandoned")
    _weigh(user, today() - dt.timedelta(days=1), "77.5")
    response = auth_client.patch(detail(goal.pk), {"status": "active"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "achieved"
    # Another target the latest value does not reach: active again.
    body = auth_client.patch(detail(goal.pk), {"status": "active", "target_value": 76}).json()
    assert (body["status"], body["achieved_at"]) == ("active", None)
    # Moving the target to one the latest value reaches achieves it.
    assert auth_client.patch(detail(goal.pk), {"target_value": 77.5}).json()["status"] == "achieved"


def test_an_already_reached_goal_does_not_clash_with_the_active_one(auth_client, user, builtin_types):
    GoalFactory(user=user, start_value=82, target_value=70)
    _weigh(user, today() - dt.timedelta(days=1), "77.5")
    target_date = (today() + dt.timedelta(days=60)).isoformat()
    start = (today() - dt.timedelta(days=7)).isoformat()
    body = {"type": "weight", "start_value": 80, "target_value": 78, "target_date": target_date, "start_date": start}
    response = auth_client.post(GOALS, body)
    assert (response.status_code, response.json()["status"]) == (201, "achieved")
