"""Measurements: body measurement types (built-in and the user's own) and their entries."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from fithub import bounds
from fithub.models import OwnedModel, TimeStampedModel, VersionedModel, new_id

# Units a value may be entered in, per stored (metric) unit, with the factor to metric.
UNIT_CONVERSIONS: dict[str, dict[str, Decimal]] = {
    "kg": {"kg": Decimal(1), "lb": Decimal("0.45359237")},
    "cm": {"cm": Decimal(1), "in": Decimal("2.54")},
}
VALUE_DIGITS = 12
VALUE_PLACES = 4
# The largest magnitude a value may have (the column holds 12 digits, 4 after the point).
VALUE_LIMIT = Decimal("99999999")


class MeasurementType(VersionedModel, TimeStampedModel):
    """What is measured and in which unit. Built-in types (no owner, a `key` such as
    `weight`) are seeded by a migration and shared; a user's own types are private.

    `min_value`/`max_value` bound the physically sensible values (a weight of 0 or
    5,000 kg is refused); they are optional on a user's own types.

    A user's own type deleted while measurements or goals use it is archived (`archived_at`):
    gone from the list, still readable by id and shown where it is used, no new measurement
    or goal may use it, and its name is free again. One whose owner deleted their account
    while another account used it (an admin's link) stays archived without an owner (and
    without a key).
    """

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="measurement_types"
    )
    key = models.SlugField(max_length=40, blank=True, default="", help_text="Stable name of a built-in type.")
    name = models.CharField(max_length=60)
    unit = models.CharField(max_length=16, help_text="The unit values are stored in (metric).")
    min_value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True)
    max_value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was deleted while measurements or goals used it."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(user__isnull=True) & ~models.Q(key=""),
                name="measurementtype_builtin_key_unique",
            ),
            models.UniqueConstraint(
                "user",
                Lower("name"),
                condition=models.Q(archived_at__isnull=True),
                name="measurementtype_user_active_name_unique",
                violation_error_code="unique",
                violation_error_message="You already have a measurement type with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(key="") | models.Q(archived_at__isnull=False),
                name="measurementtype_builtin_has_key",
            ),
            models.CheckConstraint(
                condition=models.Q(min_value__isnull=True)
                | models.Q(max_value__isnull=True)
                | models.Q(min_value__lt=models.F("max_value")),
                name="measurementtype_range_ordered",
                violation_error_message="min_value must be below max_value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"

    @property
    def is_builtin(self) -> bool:
        return self.user_id is None

    def accepted_units(self) -> list[str]:
        return list(UNIT_CONVERSIONS.get(self.unit, {self.unit: Decimal(1)}))

    def to_metric(self, value: Decimal, unit: str) -> Decimal:
        """Convert `value` entered in `unit` to this type's unit; ValidationError if it cannot."""
        factors = UNIT_CONVERSIONS.get(self.unit, {self.unit: Decimal(1)})
        if unit not in factors:
            message = f"{self.name} is entered in {' or '.join(factors)}, not {unit!r}."
            raise ValidationError({"unit": ValidationError(message, code="invalid_unit")})
        return (value * factors[unit]).quantize(Decimal(1).scaleb(-VALUE_PLACES))

    def check_range(self, value: Decimal, field: str = "value") -> None:
        low = self.min_value if self.min_value is not None else -VALUE_LIMIT
        high = self.max_value if self.max_value is not None else VALUE_LIMIT
        if not low <= value <= high:
            message = f"{self.name} must be between {low.normalize():f} and {high.normalize():f} {self.unit}."
            raise ValidationError({field: ValidationError(message, code="out_of_range")})


class Measurement(OwnedModel):
    """One reading of a measurement type. `value` is in the type's (metric) unit;
    `entered_value` and `entered_unit` keep what the client sent (160 lb) so it can show
    it back unchanged."""

    # A type in use is archived, never deleted from under its measurements.
    type = models.ForeignKey(MeasurementType, on_delete=models.RESTRICT, related_name="measurements")
    value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    entered_value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    entered_unit = models.CharField(max_length=16)
    measured_at = models.DateTimeField(validators=[bounds.validate_recorded_time])
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-measured_at", "-id"]
        indexes = [
            models.Index(fields=["user", "type", "-measured_at"], name="measurement_user_type_time"),
            models.Index(fields=["user", "-measured_at"], name="measurement_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.type_id} {self.value} at {self.measured_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.type_id is None:
            return
        measurement_type = self.type
        if measurement_type.user_id is not None and measurement_type.user_id != self.user_id:
            raise ValidationError({"type": ValidationError("Unknown measurement type.", code="does_not_exist")})
        measurement_type.check_range(self.value)
