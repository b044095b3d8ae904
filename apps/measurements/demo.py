"""Demo data: a plausible weight series for one user."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction

from apps.measurements.models import Measurement, MeasurementType
from apps.measurements.services import MAX_BULK_ROWS, bulk_create_measurements
from apps.users.models import User


def _days(*, user: User, days: int) -> list[date]:
    """The last `days` local days, oldest first."""
    today = user.local_today()
    return [today - timedelta(days=days - 1 - offset) for offset in range(days)]


def _weight_id(user: User, day: date) -> uuid.UUID:
    return uuid.uuid5(user.pk, f"demo-weight-{day.isoformat()}")


@transaction.atomic
def seed_demo_measurements(*, user: User, days: int) -> list[Measurement]:
    """A morning weight for each of the last `days` local days (from 84 kg, losing about
    0.5 kg a week, with up to 0.2 kg of day-to-day noise, so the trend always falls).

    Idempotent: the rows have ids derived from the user and the day, so running it again
    adds nothing."""
    weight = MeasurementType.objects.get(user__isnull=True, key="weight")
    rng = random.Random(str(user.pk))  # noqa: S311 - demo noise, not security
    rows = []
    for offset, day in enumerate(_days(user=user, days=days)):
        value = Decimal(84) - Decimal("0.07") * offset + Decimal(rng.randint(-20, 20)) / 100
        rows.append(
            {
                "id": _weight_id(user, day),
                "type": weight,
                "value": value.quantize(Decimal("0.01")),
                "measured_at": datetime.combine(day, time(7, rng.randint(0, 45)), tzinfo=user.zone),
            }
        )
    created: list[Measurement] = []
    for start in range(0, len(rows), MAX_BULK_ROWS):
        created += bulk_create_measurements(user=user, rows=rows[start : start + MAX_BULK_ROWS])
    return created


def demo_weights(*, user: User, days: int) -> list[Measurement]:
    """The weights `seed_demo_measurements` wrote for the last `days` local days, oldest first."""
    ids = [_weight_id(user, day) for day in _days(user=user, days=days)]
    return list(Measurement.objects.filter(pk__in=ids).select_related("type").order_by("measured_at"))
