from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from fithub import bounds


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key in input that must belong to the caller.

    Someone else's id is answered exactly like an id that does not exist, so the response
    tells nothing about other users' rows. `owner_field` names the owner on the related
    model; `include_public` also accepts rows with no owner (public foods).
    """

    def __init__(self, *, owner_field: str = "user", include_public: bool = False, **kwargs):
        self.owner_field = owner_field
        self.include_public = include_public
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return queryset.none()
        from django.db.models import Q

        owned = Q(**{self.owner_field: user})
        if self.include_public:
            owned |= Q(**{f"{self.owner_field}__isnull": True})
        return queryset.filter(owned)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except DjangoValidationError:
            # A malformed key (e.g. not a UUID, or an object) fails in the database field's
            # to_python: the same "incorrect_type" DRF answers for other unusable keys.
            self.fail("incorrect_type", data_type=type(data).__name__)


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


class DayField(serializers.DateField):
    """A local day in a query: from 1900-01-01 to 2999-12-31. Nothing is logged outside
    those years, and the day arithmetic around a day (the week before a trend, the day after
    a range) stays inside the calendar; a day outside is a 400 naming the parameter."""

    def __init__(self, **kwargs):
        help_text = kwargs.get("help_text", "")
        kwargs["help_text"] = f"{help_text} From {FIRST_DAY} to {LAST_DAY}.".strip()
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(f"A day from {FIRST_DAY} to {LAST_DAY}.", code="invalid")
        return day


class RoundedDecimalField(serializers.DecimalField):
    """A decimal column's input: any finite JSON number (or numeric string) in range is taken
    and rounded half-even to the column's places, as a phone's 165 lb in kg (74.84290263174965)
    is; the schema says the precision. The range is checked on the number as sent, before
    rounding: 300.04 is above a maximum of 300 although it rounds to 300.0, as the schema's
    `maximum` says. What is stored, and answered, is the rounded value."""

    def __init__(self, max_digits: int, decimal_places: int, **kwargs):
        kwargs.setdefault("rounding", ROUND_HALF_EVEN)
        kwargs.setdefault("coerce_to_string", False)
        help_text = kwargs.get("help_text", "")
        kwargs["help_text"] = f"{help_text} Rounded half-even to {decimal_places} decimal places.".strip()
        super().__init__(max_digits, decimal_places, **kwargs)

    def validate_precision(self, value):
        # DRF calls this with the number as parsed, then rounds it: the range is checked here.
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        try:
            rounded = self.quantize(value)
        except InvalidOperation:  # more whole digits than the column holds
            self.fail("max_digits", max_digits=self.max_digits)
        return super().validate_precision(rounded)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset (`Z`, `+01:00`). A time without one is refused
    (code `naive`) rather than guessed to be UTC: a phone that drops the offset would log
    every meal hours off."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset (such as 2026-11-21T12:30:00+01:00 or ...Z).",
    }

    def __init__(self, **kwargs):
        help_text = kwargs.get("help_text", "")
        kwargs["help_text"] = f"{help_text} ISO 8601 with a UTC offset (`Z` or `+01:00`).".strip()
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        parsed = value
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:  # well formed but no time (month 13): DRF's "invalid"
                parsed = None
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


class RecordedTimeField(AwareDateTimeField):
    """When something was eaten or measured: with its offset, from 1900-01-01T00:00:00Z to one
    day ahead of now (fithub.bounds); outside, a 400 naming the field."""

    default_error_messages = bounds.TIME_MESSAGES

    def __init__(self, **kwargs):
        help_text = kwargs.get("help_text", "")
        kwargs["help_text"] = f"{help_text} {bounds.TIME_RANGE_TEXT}".strip()
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except serializers.ValidationError as exc:
            if exc.get_codes() != ["overflow"]:
                raise
            # Past year 1 or 9999 once in UTC (0001-01-01T00:00+14:00): which end it overshot.
            self.fail("out_of_range" if str(value).lstrip()[:4] < "5000" else "future")
        error = bounds.time_error(moment)
        if error is not None:
            self.fail(error.code)
        return moment


class BirthDateField(serializers.DateField):
    """A birth date from 1900-01-01 to the user's local today (fithub.bounds)."""

    default_error_messages = bounds.BIRTH_DATE_MESSAGES

    def __init__(self, **kwargs):
        help_text = kwargs.get("help_text", "")
        kwargs["help_text"] = f"{help_text} {bounds.BIRTH_DATE_RANGE_TEXT}".strip()
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        today = user.local_today() if getattr(user, "is_authenticated", False) else None
        error = bounds.birth_date_error(day, today)
        if error is not None:
            self.fail(error.code)
        return day
