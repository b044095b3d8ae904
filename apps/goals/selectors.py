"""Reads on goals: a goal's progress from the latest measurement and the trend."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from apps.goals.models import Goal
from apps.measurements.selectors import daily_means, latest_value, trend_history_start, trend_points
from fithub.db.statements import fetch_together

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
