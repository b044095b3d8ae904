"""Demo data: a weight-loss goal for the demo weights of `apps.measurements.demo`."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from apps.goals.models import Goal
from apps.goals.services import create_goal
from apps.measurements.demo import demo_weights
from apps.users.models import User


@transaction.atomic
def seed_demo_goal(*, user: User, days: int) -> Goal | None:
    """An active weight goal from the first demo weight of the last `days` local days to
    3 kg below the latest, due in 90 days; None when there are no demo weights.

    Idempotent: the goal is added only when no active weight goal exists."""
    weights = demo_weights(user=user, days=days)
    if not weights:
        return None
    first, latest = weights[0], weights[-1]
    active = Goal.objects.filter(user=user, type=first.type, status=Goal.Status.ACTIVE).first()
    if active is not None:
        return active
    today = user.local_today()
    return create_goal(
        user=user,
        type=first.type,
        start_value=first.value,
        start_date=today - timedelta(days=days - 1),
        target_value=latest.value - 3,
        target_date=today + timedelta(days=90),
    )
