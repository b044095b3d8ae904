"""Writes on measurements. Each is one transaction; invalid input raises Django's ValidationError."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.measurements import registry
from apps.measurements.models import Measurement, MeasurementType
from apps.users.models import User
from fithub import bounds
from fithub.db.integrity import save_or_conflict

MAX_BULK_ROWS = 500
ONE_ACTIVE_TYPE_NAME = {
    "measurementtype_user_active_name_unique": "You already have a measurement type with this name.",
}


def _check_measured_at(measured_at: datetime) -> None:
    """From 1900 to one day ahead of now (fithub.bounds): checked before the row is built, so
    the error names measured_at alone."""
    error = bounds.time_error(measured_at)
    if error is not None:
        raise ValidationError({"measured_at": error})


@transaction.atomic
def create_measurement_type(
    *,
    user: User,
    name: str,
    unit: str,
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    id: uuid.UUID | None = None,
) -> MeasurementType:
    measurement_type = MeasurementType(user=user, name=name.strip(), unit=unit.strip(), min_value=min_value)
    measurement_type.max_value = max_value
    if id is not None:
        measurement_type.id = id
    measurement_type.full_clean()
    save_or_conflict(measurement_type, constraints=ONE_ACTIVE_TYPE_NAME, force_insert=True)
    return measurement_type


@transaction.atomic
def update_measurement_type(*, measurement_type: MeasurementType, data: dict) -> MeasurementType:
    """Rename one of the user's own types, or change its range or unit. The unit can change
    only while nothing is measured in it: stored values are in the type's unit."""
    if measurement_type.is_builtin:
        raise ValidationError("Built-in measurement types cannot be changed.", code="read_only")
    if "name" in data:
        measurement_type.name = data["name"].strip()
    if "unit" in data and data["unit"].strip() != measurement_type.unit:
        if measurement_type.measurements.exists() or measurement_type.goals.exists():
            message = "Measurements or goals are in this unit: create another type for another unit."
            raise ValidationError({"unit": ValidationError(message, code="in_use")})
        measurement_type.unit = data["unit"].strip()
    for field in ("min_value", "max_value"):
        if field in data:
            setattr(measurement_type, field, data[field])
    measurement_type.full_clean()
    save_or_conflict(measurement_type, constraints=ONE_ACTIVE_TYPE_NAME)
    return measurement_type


@transaction.atomic
def delete_measurement_type(*, measurement_type: MeasurementType) -> bool:
    """Delete one of the user's own types, or archive it when measurements or goals use it
    (they keep it; it leaves the list, no new measurement or goal can use it and its name is
    free again). Returns whether it was archived."""
    if measurement_type.is_builtin:
        raise ValidationError("Built-in measurement types cannot be deleted.", code="read_only")
    measurement_type = MeasurementType.objects.select_for_update().get(pk=measurement_type.pk)
    if measurement_type.measurements.exists() or measurement_type.goals.exists():
        if measurement_type.archived_at is None:
            measurement_type.archived_at = timezone.now()
            measurement_type.save(update_fields=["archived_at", "updated_at"])
        return True
    measurement_type.delete()
    return False


def refuse_archived_type(measurement_type: MeasurementType, *, field: str = "type") -> None:
    """Nothing new may use an archived type."""
    if measurement_type.archived_at is not None:
        message = "This measurement type was deleted: what already uses it keeps it, but nothing new can."
        raise ValidationError({field: ValidationError(message, code="archived")})


def _build_measurement(
    *,
    user: User,
    type: MeasurementType,
    value: Decimal,
    measured_at: datetime,
    unit: str | None = None,
    note: str = "",
    id: uuid.UUID | None = None,
) -> Measurement:
    unit = unit or type.unit
    refuse_archived_type(type)
    _check_measured_at(measured_at)
    measurement = Measurement(
        user=user,
        type=type,
        value=type.to_metric(value, unit),
        entered_value=value,
        entered_unit=unit,
        measured_at=measured_at,
        note=note,
    )
    if id is not None:
        measurement.id = id
    # The foreign keys are known good (the caller, a visible type): skip their per-row queries.
    measurement.full_clean(exclude=["user", "type"], validate_unique=False, validate_constraints=False)
    return measurement


# No savepoint inside a caller's transaction (the API's create): an error here fails the
# whole request anyway, and a savepoint costs two round trips.
@transaction.atomic(savepoint=False)
def create_measurement(*, user: User, **fields) -> Measurement:
    """Record one measurement (value in `unit`, the type's unit by default); the active
    goals it reaches become achieved (`registry.recorded`)."""
    measurement = _build_measurement(user=user, **fields)
    measurement.save(force_insert=True)
    registry.recorded(user=user, measurements=[measurement])
    return measurement


@transaction.atomic
def update_measurement(*, measurement: Measurement, data: dict) -> Measurement:
    """Change value/unit, measured_at or note; the type stays (a new reading is a new row).
    A corrected value that reaches an active goal achieves it."""
    if "value" in data or "unit" in data:
        value = data.get("value", measurement.entered_value)
        unit = data.get("unit") or measurement.entered_unit
        measurement.value = measurement.type.to_metric(value, unit)
        measurement.entered_value = value
        measurement.entered_unit = unit
    if "measured_at" in data:
        _check_measured_at(data["measured_at"])
        measurement.measured_at = data["measured_at"]
    if "note" in data:
        measurement.note = data["note"]
    measurement.full_clean(exclude=["user", "type"], validate_unique=False, validate_constraints=False)
    measurement.save()
    registry.recorded(user=measurement.user, measurements=[measurement])
    return measurement


@transaction.atomic
def bulk_create_measurements(*, user: User, rows: list[dict]) -> list[Measurement]:
    """Create a batch all or nothing. A bad row rejects the whole batch with an error whose
    `attr` is `items.<index>.<field>`. Rows whose `id` the user already has are returned as
    they are (a re-sent sync creates nothing twice); an id of someone else's is refused.
    Active goals the new rows reach become achieved."""
    if len(rows) > MAX_BULK_ROWS:
        message = f"At most {MAX_BULK_ROWS} measurements per batch."
        raise ValidationError({"items": ValidationError(message, code="max_length")})
    ids = [row["id"] for row in rows if row.get("id") is not None]
    if len(ids) != len(set(ids)):
        raise ValidationError({"items": ValidationError("Two rows have the same id.", code="unique")})
    existing = {m.pk: m for m in Measurement.objects.filter(pk__in=ids).select_related("type")}
    result: list[Measurement] = []
    to_create: list[Measurement] = []
    for index, row in enumerate(rows):
        found = existing.get(row.get("id"))
        if found is not None:
            if found.user_id != user.pk:
                message = "This id is already in use; choose another."
                raise ValidationError({f"items.{index}.id": ValidationError(message, code="unique")})
            result.append(found)
            continue
        try:
            measurement = _build_measurement(user=user, **row)
        except ValidationError as exc:
            errors = exc.error_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.error_list}
            raise ValidationError({f"items.{index}.{field}": error for field, error in errors.items()}) from exc
        to_create.append(measurement)
        result.append(measurement)
    try:
        with transaction.atomic():
            Measurement.objects.bulk_create(to_create)
    except IntegrityError as exc:
        # A concurrent batch created one of these ids first: nothing of this one is kept.
        message = "An id of this batch was created meanwhile; send the batch again."
        raise ValidationError({"items": ValidationError(message, code="conflict")}) from exc
    registry.recorded(user=user, measurements=to_create)
    return result
