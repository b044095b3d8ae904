"""Human bounds on what clients send, in one place: the API fields refuse outside them (a 400
naming the field), the models' validators refuse the same (the admin, the services'
full_clean), and the schema states them (minimum/maximum, the dates in the descriptions).

A time or date outside them is a typo or a fuzzer, never a reading: year 1 gave an age of
2025 and a negative BMR, year 9999 sorted first in the diary.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone as django_timezone

# Diary and measurement times: from 1900 to one day ahead of the server (clocks drift).
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
TIME_RANGE_TEXT = "From 1900-01-01T00:00:00Z to one day ahead of now."
# By error code: the API fields' error messages and the validators' alike.
TIME_MESSAGES = {
    "out_of_range": "The time is before 1900-01-01T00:00:00Z.",
    "future": "The time is more than one day ahead of now.",
}

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
BIRTH_DATE_RANGE_TEXT = "From 1900-01-01 to today."
BIRTH_DATE_MESSAGES = {
    "out_of_range": "The birth date is before 1900-01-01.",
    "future": "The birth date is in the future.",
}
# The zone where today begins first: no one anywhere was born after today there.
_FIRST_ZONE = timezone(timedelta(hours=14))

HEIGHT_CM = (Decimal(30), Decimal(300))
WEIGHT_KG = (Decimal(20), Decimal(500))
# One drink, from a sip to a 5-litre jug logged at once; a day's water target up to 20 litres.
WATER_ML = (Decimal("1"), Decimal("5000"))
WATER_TARGET_ML = (Decimal("1"), Decimal("20000"))


def latest_time() -> datetime:
    return django_timezone.now() + FUTURE_TOLERANCE


def time_error(value: datetime) -> ValidationError | None:
    """Why an aware time is outside the diary's and measurements' range, or None."""
    code = "out_of_range" if value < EARLIEST_TIME else "future" if value > latest_time() else None
    return None if code is None else ValidationError(TIME_MESSAGES[code], code=code)


def validate_recorded_time(value: datetime) -> None:
    """A model field validator for a diary or measurement time."""
    error = time_error(value)
    if error is not None:
        raise error


def birth_date_error(value: date, today: date | None = None) -> ValidationError | None:
    """Why a birth date is outside 1900-01-01..today, or None. `today` is the user's local
    day; without one, the latest today on Earth (UTC+14)."""
    today = today or datetime.now(_FIRST_ZONE).date()
    code = "out_of_range" if value < EARLIEST_BIRTH_DATE else "future" if value > today else None
    return None if code is None else ValidationError(BIRTH_DATE_MESSAGES[code], code=code)


def validate_birth_date(value: date) -> None:
    """A model field validator for a birth date."""
    error = birth_date_error(value)
    if error is not None:
        raise error
