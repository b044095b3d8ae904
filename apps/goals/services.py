"""Writes on goals. Each is one transaction; invalid input raises Django's ValidationError."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.goals.models import Goal
from apps.measurements.models import Measurement, MeasurementType
from apps.measurements.selectors import value_on, within_since
from apps.measurements.services import refuse_archived_type
from apps.users.models import User
from fithub.db.integrity import save_or_conflict

ONE_ACTIVE_GOAL = {"goal_one_active_per_type": "You already have an active goal for this measurement type."}


def _full_clean(goal: Goal) -> None:
    # Not excluding user and type: the one-active-goal-per-type constraint names them.
    goal.full_clean()


@transaction.atomic
def create_goal(
    *,
    user: User,
    type: MeasurementType,
    target_value: Decimal,
    target_date: date,
    start_value: Decimal | None = None,
    start_date: date | None = None,
    id: uuid.UUID | None = None,
) -> Goal:
    """A new goal. `start_date` defaults to the user's local today, and `start_value` to
    their value on that day: the latest measurement of the type taken by its end, else the
    first one after it. A goal the latest measurement since its start already reaches is
    `achieved` at once."""
    refuse_archived_type(type)
    start_date = start_date or user.local_today()
    if start_value is None:
        measured = value_on(user=user, measurement_type=type, day=start_date)
        if measured is None:
            message = "There is no measurement of this type yet: give a start value."
            raise ValidationError({"start_value": ValidationError(message, code="required")})
        start_value = measured.value
    type.check_range(target_value, field="target_value")
    type.check_range(start_value, field="start_value")
    goal = Goal(
        user=user,
        type=type,
        target_value=target_value,
        target_date=target_date,
        start_value=start_value,
        start_date=start_date,
    )
    if id is not None:
        goal.id = id
    _achieve_if_reached(goal)
    _full_clean(goal)
    save_or_conflict(goal, constraints=ONE_ACTIVE_GOAL, force_insert=True)
    return goal


@transaction.atomic
def update_goal(*, goal: Goal, data: dict) -> Goal:
    """Change the target, dates, start value or status. Setting `achieved` by hand stamps
    `achieved_at` now; leaving `achieved` clears it. A goal left active (reactivated, or
    given another target or start) that the latest measurement since its start reaches is
    `achieved` at once."""
    for field in ("target_value", "target_date", "start_value", "start_date"):
        if field in data:
            setattr(goal, field, data[field])
    for field in ("target_value", "start_value"):
        if field in data:
            goal.type.check_range(data[field], field=field)
    if "status" in data and data["status"] != goal.status:
        goal.status = data["status"]
        goal.achieved_at = timezone.now() if goal.status == Goal.Status.ACHIEVED else None
    _achieve_if_reached(goal)
    _full_clean(goal)
    save_or_conflict(goal, constraints=ONE_ACTIVE_GOAL)
    return goal


def _achieve_if_reached(goal: Goal) -> None:
    """Mark an active goal achieved when the latest measurement of its type since its start
    date reaches the target, as of the first of the measurements since then that all do."""
    if goal.status != Goal.Status.ACTIVE:
        return
    bound = {"at_most": goal.target_value} if goal.direction < 0 else {"at_least": goal.target_value}
    reached_at = within_since(user=goal.user, measurement_type=goal.type, since=goal.start_date, **bound)
    if reached_at is not None:
        goal.status = Goal.Status.ACHIEVED
        goal.achieved_at = reached_at


def achieve_reached_goals(*, user: User, measurements: Iterable[Measurement]) -> list[Goal]:
    """Mark the user's active goals that these new measurements reach as achieved.

    Registered with `apps.measurements.registry.on_recorded` (GoalsConfig.ready): the
    measurement services call it inside their transaction (not a signal). Only
    measurements on or after the goal's start date count. One query finds the goals; one
    update per goal reached."""
    by_type: dict = {}
    for measurement in measurements:
        by_type.setdefault(measurement.type_id, []).append(measurement)
    if not by_type:
        return []
    zone = user.zone
    achieved = []
    for goal in Goal.objects.filter(user=user, status=Goal.Status.ACTIVE, type_id__in=by_type):
        reaching = [
            m.measured_at
            for m in by_type[goal.type_id]
            if m.measured_at.astimezone(zone).date() >= goal.start_date and goal.is_reached_by(m.value)
        ]
        if reaching:
            goal.status = Goal.Status.ACHIEVED
            goal.achieved_at = min(reaching)
            goal.save(update_fields=["status", "achieved_at", "updated_at"])
            achieved.append(goal)
    return achieved
