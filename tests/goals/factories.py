import datetime as dt
from decimal import Decimal

import factory

from apps.goals.models import Goal
from tests.measurements.factories import builtin
from tests.users.factories import UserFactory


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    user = factory.SubFactory(UserFactory)
    type = factory.LazyFunction(lambda: builtin("weight"))
    start_value = Decimal(82)
    target_value = Decimal(76)
    start_date = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC).date() - dt.timedelta(days=14))
    target_date = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC).date() + dt.timedelta(days=60))
