"""Measurements' part of an account (`apps.users.registry`): its lists in the export, the
demo weights, the profile's body metrics and the bulk deletion of its rows."""

from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.measurements.demo import seed_demo_measurements
from apps.measurements.models import Measurement, MeasurementType
from apps.measurements.selectors import body_metrics
from apps.users import registry
from fithub.db.deletion import delete_rows, referenced


def _seed_demo(*, user, days: int) -> str:
    seed_demo_measurements(user=user, days=days)
    return "weights in place"


def delete_account_rows(*, user) -> None:
    """The user's measurements and own types (their goals went first: goals register later).

    A type of the user's that another account's measurements or goals still use (only the
    admin can link those) is archived without an owner instead of deleted, as when its owner
    deletes it: their history keeps it. Built-in types stay."""
    delete_rows(Measurement.objects.filter(user_id=user.pk))
    types = MeasurementType.objects.filter(user_id=user.pk)
    now = timezone.now()
    types.filter(pk__in=referenced(types).values("pk")).update(
        user=None, archived_at=Coalesce("archived_at", now), updated_at=now
    )
    delete_rows(types)


def register() -> None:
    registry.add_export_section(
        "measurement_types",
        lambda user: MeasurementType.objects.filter(user=user).order_by("created_at"),
        position=70,
        model=MeasurementType,
    )
    registry.add_export_section(
        "measurements",
        lambda user: Measurement.objects.filter(user=user).order_by("measured_at", "id"),
        position=80,
        model=Measurement,
    )
    registry.add_demo_seeder(_seed_demo)
    registry.provide_body_metrics(body_metrics)
    registry.add_account_deleter(delete_account_rows)
