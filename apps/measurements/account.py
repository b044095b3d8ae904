"""Measurements' part of an account (`apps.users.registry`): its lists in the export, the
demo weights and the profile's body metrics."""

from apps.measurements.demo import seed_demo_measurements
from apps.measurements.models import Measurement, MeasurementType
from apps.measurements.selectors import body_metrics
from apps.users import registry


def _seed_demo(*, user, days: int) -> str:
    seed_demo_measurements(user=user, days=days)
    return "weights in place"


def register() -> None:
    registry.add_export_section(
        "measurement_types", lambda user: MeasurementType.objects.filter(user=user).order_by("created_at"), position=70
    )
    registry.add_export_section(
        "measurements", lambda user: Measurement.objects.filter(user=user).order_by("measured_at", "id"), position=80
    )
    registry.add_demo_seeder(_seed_demo)
    registry.provide_body_metrics(body_metrics)
