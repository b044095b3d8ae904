"""Measurements' types in the sync feed (fithub.sync.registry): your own measurement types
(built-in ones have no owner and are not in the feed) and measurements."""

from apps.measurements.api import examples
from apps.measurements.api.serializers import MeasurementSerializer, MeasurementTypeSerializer
from apps.measurements.models import Measurement, MeasurementType
from fithub.sync import registry

CUSTOM_TYPE = {
    **examples.TYPE_EXAMPLE.value,
    "id": "01936b2e-7000-7000-8000-0000000000c1",
    "key": "",
    "name": "Calf",
    "unit": "cm",
    "accepted_units": ["cm", "in"],
    "min_value": 15,
    "max_value": 80,
    "is_builtin": False,
}


def register() -> None:
    registry.register(
        "measurement_type",
        model=MeasurementType,
        serializer=MeasurementTypeSerializer,
        rows=lambda user: MeasurementType.objects.filter(user_id=user.pk),
        example=CUSTOM_TYPE,
        description="Your own types only: the built-in ones are not in the feed.",
    )
    registry.register(
        "measurement",
        model=Measurement,
        serializer=MeasurementSerializer,
        rows=lambda user: Measurement.objects.select_related("type").filter(user_id=user.pk),
        example=examples.MEASUREMENT_EXAMPLE.value,
    )
