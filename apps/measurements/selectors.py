"""Reads on measurements: user-scoped querysets, the latest value per type, the daily trend."""

from __future__ import annotations

import uuid
import zoneinfo
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, F, Q, QuerySet, UUIDField, Window
from django.db.models.functions import RowNumber, TruncDate

from apps.measurements.models import Measurement, MeasurementType
from apps.users.models import User
from apps.users.registry import BodyMetrics
from fithub.db.statements import CachedQuery, Param, Statement, fetch_together

TREND_WINDOW_DAYS = 7
RATE_LOOKBACK_DAYS = 7


def visible_measurement_types(*, user: User) -> QuerySet[MeasurementType]:
    """The built-in types and the user's own, never another user's."""
    return MeasurementType.objects.filter(Q(user__isnull=True) | Q(user=user))


def measurement_type_by_ref(*, user: User, ref: str) -> MeasurementType | None:
    """A visible type by its id, or a built-in one by its key (`weight`)."""
    types = visible_measurement_types(user=user)
    try:
        return types.filter(pk=uuid.UUID(str(ref))).first()
    except ValueError:
        return types.filter(user__isnull=True, key=ref).first()


def measurements_of(*, user: User) -> QuerySet[Measurement]:
    return Measurement.objects.filter(user=user).select_related("type")


def latest_per_type(*, user: User) -> QuerySet[Measurement]:
    """The most recent measurement of each type the user has measured, in one query
    (a ROW_NUMBER() window partitioned by type, filtered to the first row)."""
    return (
        measurements_of(user=user)
        .annotate(rank=Window(RowNumber(), partition_by=[F("type_id")], order_by=[F("measured_at").desc(), "-id"]))
        .filter(rank=1)
        .order_by("type__name")
    )


def latest_measurement(*, user: User, measurement_type: MeasurementType) -> Measurement | None:
    return (
        Measurement.objects.filter(user=user, type=measurement_type)
        .order_by("-measured_at", "-id")
        .select_related("type")
        .first()
    )


def _start_of(day: date, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """The first moment of a local day; None past the calendar's end (after 9999-12-31)."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if day.year == 1 else None


def value_on(*, user: User, measurement_type: MeasurementType, day: date) -> Measurement | None:
    """The user's value of the type on a local day: the latest measurement taken by the end
    of that day, else the first one after it (None without any). One or two queries."""
    mine = Measurement.objects.filter(user=user, type=measurement_type)
    end = _start_of(day + timedelta(days=1), user.zone) if day < date.max else None
    by_then = mine if end is None else mine.filter(measured_at__lt=end)
    found = by_then.order_by("-measured_at", "-id").first()
    if found is None and end is not None:
        found = mine.filter(measured_at__gte=end).order_by("measured_at", "id").first()
    return found


def within_since(
    *,
    user: User,
    measurement_type: MeasurementType,
    since: date,
    at_most: Decimal | None = None,
    at_least: Decimal | None = None,
) -> datetime | None:
    """Since when the user's values of the type have stayed within the bounds: the time of
    the first measurement after the last one outside them, counting the measurements from
    the local day `since` on. None when the latest of those is outside (or there is none).
    Two queries."""
    start = _start_of(since, user.zone)
    if start is None:
        return None
    measured = Measurement.objects.filter(user=user, type=measurement_type, measured_at__gte=start)
    outside = Q(pk__in=[])
    if at_most is not None:
        outside |= Q(value__gt=at_most)
    if at_least is not None:
        outside |= Q(value__lt=at_least)
    last_outside = measured.filter(outside).order_by("-measured_at").values_list("measured_at", flat=True).first()
    inside = measured.exclude(outside)
    if last_outside is not None:
        inside = inside.filter(measured_at__gt=last_outside)
    return inside.order_by("measured_at").values_list("measured_at", flat=True).first()


def latest_weight_kg(*, user: User) -> Decimal | None:
    """The user's latest weight in kg, or None (one query)."""
    return (
        Measurement.objects.filter(user=user, type__user__isnull=True, type__key="weight")
        .order_by("-measured_at", "-id")
        .values_list("value", flat=True)
        .first()
    )


@dataclass(frozen=True)
class TrendPoint:
    date: date
    value: Decimal
    count: int
    trend: Decimal
    rate_per_week: Decimal | None


def _of_user_and_type(values: dict) -> QuerySet[Measurement]:
    """The measurements of `values["user"]` and `values["type"]`, both as Params."""
    return Measurement.objects.filter(
        user_id=Param("user", values["user"], output_field=UUIDField()),
        type_id=Param("type", values["type"], output_field=UUIDField()),
    )


def _daily_means(shape: str, values: dict) -> QuerySet:
    """(local day, mean value, count) for each day with a measurement: one grouped query.
    The shape is the user's time zone (its name reaches the SQL as the grouping's zone)."""
    return (
        _of_user_and_type(values)
        .filter(
            measured_at__gte=Param("from", values["from"]),
            measured_at__lt=Param("until", values["until"]),
        )
        .annotate(day=TruncDate("measured_at", tzinfo=zoneinfo.ZoneInfo(shape)))
        .values("day")
        .annotate(mean=Avg("value"), count=Count("id"))
        .order_by("day")
        .values_list("day", "mean", "count")
    )


_DAILY_MEANS = CachedQuery(Measurement, _daily_means)


def daily_means(*, user: User, measurement_type: MeasurementType, start: date, end: date) -> Statement:
    """The daily means from `start` to `end` (local days), to run with fetch_together."""
    zone = user.zone
    values = {
        "user": user.pk,
        "type": measurement_type.pk,
        "from": datetime.combine(start, time.min, tzinfo=zone),
        "until": datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    }
    return _DAILY_MEANS.bind(user.timezone, values)


def _latest_value(shape: None, values: dict) -> QuerySet:
    return _of_user_and_type(values).order_by("-measured_at", "-id").values_list("value", "measured_at")[:1]


_LATEST_VALUE = CachedQuery(Measurement, _latest_value)


def latest_value(*, user: User, measurement_type: MeasurementType) -> Statement:
    """The latest (value, measured_at) of the type, or no row: to run with fetch_together."""
    return _LATEST_VALUE.bind(None, {"user": user.pk, "type": measurement_type.pk})


def _q(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.0001"))


def trend_history_start(start: date) -> date:
    """The first day whose daily mean the points from `start` on depend on."""
    return start - timedelta(days=TREND_WINDOW_DAYS - 1 + RATE_LOOKBACK_DAYS)


def daily_trend(*, user: User, measurement_type: MeasurementType, start: date, end: date) -> list[TrendPoint]:
    """One point per local day (in the user's time zone) with a measurement, from `start` to `end`.

    - `value`: the mean of that day's measurements.
    - `trend`: a 7-day moving average over calendar days: the mean of the daily values of
      the days with a measurement among that day and the 6 before it.
    - `rate_per_week`: how fast the trend moves, in units per week: the difference between
      this day's trend and the trend of the earliest measured day among the 7 days before,
      divided by the days between them, times 7. Null when no earlier day is that close.

    One query (daily means grouped in SQL, reaching 13 days before `start` so the first
    points have their history), then one linear pass with two sliding windows.
    """
    (rows,) = fetch_together(
        daily_means(user=user, measurement_type=measurement_type, start=trend_history_start(start), end=end)
    )
    return trend_points(rows, start=start)


def trend_points(rows: list[tuple], *, start: date) -> list[TrendPoint]:
    """The trend points from `start` on, from the daily means (`daily_means`) reaching back to
    `trend_history_start(start)`."""
    window: deque[tuple[date, Decimal]] = deque()
    window_sum = Decimal(0)
    computed: deque[tuple[date, Decimal]] = deque()  # (day, trend) of recent days, for the rate
    points: list[TrendPoint] = []
    for day, mean, count in rows:
        mean = Decimal(mean)
        window.append((day, mean))
        window_sum += mean
        while window[0][0] <= day - timedelta(days=TREND_WINDOW_DAYS):
            window_sum -= window.popleft()[1]
        trend = window_sum / len(window)
        while computed and computed[0][0] < day - timedelta(days=RATE_LOOKBACK_DAYS):
            computed.popleft()
        rate = None
        if computed:
            earlier_day, earlier_trend = computed[0]
            rate = _q((trend - earlier_trend) * 7 / (day - earlier_day).days)
        computed.append((day, trend))
        if day >= start:
            points.append(TrendPoint(date=day, value=_q(mean), count=count, trend=_q(trend), rate_per_week=rate))
    return points


# Mifflin-St Jeor activity multipliers for TDEE.
ACTIVITY_FACTORS: dict[str, Decimal] = {
    User.ActivityLevel.SEDENTARY: Decimal("1.2"),
    User.ActivityLevel.LIGHT: Decimal("1.375"),
    User.ActivityLevel.MODERATE: Decimal("1.55"),
    User.ActivityLevel.ACTIVE: Decimal("1.725"),
    User.ActivityLevel.VERY_ACTIVE: Decimal("1.9"),
}


def body_metrics(*, user: User) -> BodyMetrics:
    """BMI, BMR and TDEE from the profile and the latest weight (one query); each is None
    when an input it needs is missing. The profile's (provided to `apps.users.registry`).

    - bmi = weight kg / height m squared, one decimal.
    - bmr_kcal (Mifflin-St Jeor) = 10 x weight kg + 6.25 x height cm - 5 x age + 5 (male)
      or - 161 (female), rounded to whole kcal.
    - tdee_kcal = the unrounded BMR x the activity factor (1.2 sedentary, 1.375 light,
      1.55 moderate, 1.725 active, 1.9 very active), rounded to whole kcal.
    """
    weight = latest_weight_kg(user=user)
    height = user.height_cm
    bmi = bmr = tdee = None
    if weight is not None and height:
        bmi = (weight / (height / 100) ** 2).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    age = user.age
    if weight is not None and height and age is not None and user.sex:
        offset = Decimal(5) if user.sex == User.Sex.MALE else Decimal(-161)
        exact = 10 * weight + Decimal("6.25") * height - 5 * age + offset
        bmr = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        factor = ACTIVITY_FACTORS.get(user.activity_level)
        if factor is not None:
            tdee = int((exact * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return BodyMetrics(weight_kg=weight, bmi=bmi, bmr_kcal=bmr, tdee_kcal=tdee)
