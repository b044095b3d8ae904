"""Demo data: a plausible weight series and a weight-loss goal for one user."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from apps.goals.models import Goal
from apps.goals.services import create_goal
from apps.measurements.models import Measurement, MeasurementType
from apps.measurements.services import MAX_BULK_ROWS, bulk_create_measurements
from apps.users.models import User


@transaction.atomic
def seed_demo_measurements(*, user: User, days: int) -> list[Measurement]:
    """A morning weight for each of the last `days` local days (from 84 kg, losing about
    0.5 kg a week, with up to 0.2 kg of day-to-day noise, so the trend always falls) and an
    active goal from the first reading to 3 kg below the latest, due in 90 days.

    Idempotent: the rows have ids derived from the user and the day, so running it again
    adds nothing; the goal is added only when no active weight goal exists."""
    weight = MeasurementType.objects.get(user__isnull=True, key="weight")
    rng = random.Random(str(user.pk))  # noqa: S311 - demo noise, not security
    today = user.local_today()
    first_day = today - timedelta(days=days - 1)
    rows = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        value = Decimal(84) - Decimal("0.07") * offset + Decimal(rng.randint(-20, 20)) / 100
        rows.append(
            {
                "id": uuid.uuid5(user.pk, f"demo-weight-{day.isoformat()}"),
                "type": weight,
                "value": value.quantize(Decimal("0.01")),
                "measured_at": datetime.combine(day, time(7, rng.randint(0, 45)), tzinfo=user.zone),
            }
        )
    created: list[Measurement] = []
    for start in range(0, len(rows), MAX_BULK_ROWS):
        created += bulk_create_measurements(user=user, rows=rows[start : start + MAX_BULK_ROWS])
    if created and not Goal.objects.filter(user=user, type=weight, status=Goal.Status.ACTIVE).exists():
        create_goal(
            user=user,
            type=weight,
            start_value=created[0].value,
            start_date=first_day,
            target_value=created[-1].value - 3,
            target_date=today + timedelta(days=90),
        )
    return created
