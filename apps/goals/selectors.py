"""Reads on goals: a goal's progress from the latest measurement and the trend, and the
nutrition target in force on a day."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DateField, QuerySet, Subquery, UUIDField
from django.db.models.functions import Coalesce

from apps.goals.models import Goal, NutritionTarget
from apps.measurements.selectors import daily_means, latest_value, trend_history_start, trend_points
from apps.users.models import User
from fithub.db.statements import CachedQuery, Param, Statement, fetch_together

# The trend used for projections looks at the last four weeks.
PROJECTION_WINDOW_DAYS = 28
# Projections further out than this are not projections.
MAX_PROJECTION_DAYS = 3650


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    direction: str
    current_value: Decimal
    current_measured_at: object
    percent_complete: Decimal
    remaining: Decimal
    trend_value: Decimal | None
    rate_per_week: Decimal | None
    projected_date: date | None
    on_track: bool


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def goal_progress(*, goal: Goal) -> GoalProgress:
    """How far along a goal is. Two queries in one round trip: the latest measurement and the
    daily means the trend comes from (both compiled once, fithub.db.statements).

    - `percent_complete`: (current - start) / (target - start), as a percentage clamped to
      0..100, so it works for goals that go down (weight loss) and up; 100 once achieved.
    - `remaining`: how far the current value still is from the target (0 once reached).
    - `projected_date`: the day the trend (7-day moving average, see the trend endpoint)
      reaches the target at its current weekly rate, from the last measured day of the
      past 28 days; null when there is no rate or it goes the wrong way.
    - `on_track`: achieved, or projected to reach the target by `target_date`.
    """
    user = goal.user
    today = user.local_today()
    start = today - timedelta(days=PROJECTION_WINDOW_DAYS - 1)
    latest_rows, means = fetch_together(
        latest_value(user=user, measurement_type=goal.type),
        daily_means(user=user, measurement_type=goal.type, start=trend_history_start(start), end=today),
    )
    latest, latest_at = latest_rows[0] if latest_rows else (None, None)
    current = latest if latest_rows else goal.start_value
    direction = goal.direction
    span = goal.target_value - goal.start_value
    achieved = goal.status == Goal.Status.ACHIEVED

    if achieved or goal.is_reached_by(current):
        percent = Decimal(100)
        remaining = Decimal(0)
    else:
        percent = min(Decimal(100), max(Decimal(0), (current - goal.start_value) / span * 100))
        remaining = abs(goal.target_value - current)

    points = trend_points(means, start=start)
    last = points[-1] if points else None
    trend_value = last.trend if last else None
    rate = last.rate_per_week if last else None

    projected: date | None = None
    if achieved and goal.achieved_at is not None:
        projected = goal.achieved_at.astimezone(user.zone).date()
    elif goal.is_reached_by(current):
        projected = latest_at.astimezone(user.zone).date() if latest_rows else today
    elif last is not None and rate and (rate > 0) == (direction > 0):
        days = (goal.target_value - last.trend) * 7 / rate
        if days <= 0:
            projected = last.date
        elif days <= MAX_PROJECTION_DAYS:
            projected = last.date + timedelta(days=math.ceil(days))

    on_track = achieved or (projected is not None and projected <= goal.target_date)
    return GoalProgress(
        goal=goal,
        direction="down" if direction < 0 else "up",
        current_value=current,
        current_measured_at=latest_at,
        percent_complete=_one_decimal(percent),
        remaining=remaining,
        trend_value=trend_value,
        rate_per_week=rate,
        projected_date=projected,
        on_track=on_track,
    )


def nutrition_targets_of(*, user: User) -> QuerySet[NutritionTarget]:
    return NutritionTarget.objects.filter(user=user)


def target_in_force(*, user: User, day: date) -> NutritionTarget | None:
    """The target that applies on a local day: the latest one effective on or before it."""
    return nutrition_targets_of(user=user).filter(effective_from__lte=day).order_by("-effective_from").first()


_TARGET_COLUMNS = [field.attname for field in NutritionTarget._meta.concrete_fields]


def _targets_for_range(shape: None, values: dict) -> QuerySet:
    """The targets that start within the range, and the one in force on `start`."""
    user_id = Param("user", values["user"], output_field=UUIDField())
    start = Param("start", values["start"], output_field=DateField())
    end = Param("end", values["end"], output_field=DateField())
    in_force_at_start = (
        NutritionTarget.objects.filter(user_id=user_id, effective_from__lte=start)
        .order_by("-effective_from")
        .values("effective_from")[:1]
    )
    return (
        NutritionTarget.objects.filter(
            user_id=user_id,
            effective_from__lte=end,
            effective_from__gte=Coalesce(Subquery(in_force_at_start), start),
        )
        .order_by("effective_from")
        .values_list(*_TARGET_COLUMNS)
    )


_TARGETS_FOR_RANGE = CachedQuery(NutritionTarget, _targets_for_range)


def targets_by_day(*, user: User, start: date, end: date) -> dict[date, NutritionTarget | None]:
    """The target in force on each day from start to end (inclusive), in one query, then one
    pass over the days."""
    if end < start:
        return {}
    (rows,) = fetch_together(targets_for_range(user=user, start=start, end=end))
    return targets_on_days(rows, start=start, end=end)


def targets_for_range(*, user: User, start: date, end: date) -> Statement:
    """The query of `targets_by_day`, to fetch with others (fithub.db.statements)."""
    return _TARGETS_FOR_RANGE.bind(None, {"user": user.pk, "start": start, "end": end})


def targets_on_days(rows: list[tuple], *, start: date, end: date) -> dict[date, NutritionTarget | None]:
    """`targets_by_day` from the rows of `targets_for_range`."""
    if end < start:
        return {}
    targets = [NutritionTarget.from_db(None, _TARGET_COLUMNS, row) for row in rows]
    result: dict[date, NutritionTarget | None] = {}
    current: NutritionTarget | None = None
    index = 0
    day = start
    while day <= end:
        while index < len(targets) and targets[index].effective_from <= day:
            current = targets[index]
            index += 1
        result[day] = current
        day += timedelta(days=1)
    return result


# A day is within target when the energy eaten is within this fraction of energy_kcal.
ADHERENCE_TOLERANCE = Decimal("0.10")
MAX_ADHERENCE_DAYS = 366


@dataclass(frozen=True)
class AdherenceDay:
    date: date
    target: NutritionTarget | None
    energy_kcal: float
    within_target: bool | None


@dataclass(frozen=True)
class Adherence:
    start: date
    end: date
    tolerance_percent: int
    days: list[AdherenceDay]
    streak: int


def adherence(*, user: User, start: date, end: date) -> Adherence:
    """Per local day from start to end: the target in force, the energy eaten and whether it
    is within ADHERENCE_TOLERANCE of the target's energy_kcal (null without a target, and
    for days after today: not eaten yet). Two queries: the targets and the daily totals.

    `streak`: consecutive days within target, counted back from the latest day of the range
    (not after today) that has a target. Today still in progress does not break it: when
    today is not (yet) within target the count starts from yesterday."""
    from apps.nutrition.selectors import daily_sums, totals_by_day  # nutrition reads; no import cycle at load

    today = user.local_today()
    target_rows, sums = fetch_together(
        targets_for_range(user=user, start=start, end=end), daily_sums(user=user, start=start, end=end)
    )  # one round trip
    targets = targets_on_days(target_rows, start=start, end=end)
    totals = totals_by_day(sums, start=start, end=end)
    days = []
    for day, target in targets.items():
        eaten = totals.get(day, {}).get("energy_kcal", 0.0)
        within = None
        if target is not None and day <= today:
            allowed = target.energy_kcal * ADHERENCE_TOLERANCE
            within = abs(Decimal(str(eaten)) - target.energy_kcal) <= allowed
        days.append(AdherenceDay(date=day, target=target, energy_kcal=eaten, within_target=within))
    counted = [d for d in days if d.date <= today]
    while counted and counted[-1].target is None:
        counted.pop()
    if counted and counted[-1].date == today and not counted[-1].within_target:
        counted.pop()
    streak = 0
    for day in reversed(counted):
        if not day.within_target:
            break
        streak += 1
    return Adherence(
        start=start,
        end=end,
        tolerance_percent=int(ADHERENCE_TOLERANCE * 100),
        days=days,
        streak=streak,
    )
