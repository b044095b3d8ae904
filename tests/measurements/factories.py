import datetime as dt
from decimal import Decimal

import factory

from apps.measurements.models import Measurement, MeasurementType
from tests.users.factories import UserFactory


def builtin(key: str) -> MeasurementType:
    return MeasurementType.objects.get(user__isnull=True, key=key)


class MeasurementTypeFactory(factory.django.DjangoModelFactory):
    """A user's own type."""

    class Meta:
        model = MeasurementType

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Custom {n}")
    unit = "cm"


class MeasurementFactory(factory.django.DjangoModelFactory):
    """A measurement; the type defaults to the built-in weight, the owner's own types stay the owner's."""

    class Meta:
        model = Measurement

    user = factory.SubFactory(UserFactory)
    type = factory.LazyFunction(lambda: builtin("weight"))
    value = Decimal("80.0")
    entered_value = factory.SelfAttribute("value")
    entered_unit = factory.LazyAttribute(lambda m: m.type.unit)
    measured_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
