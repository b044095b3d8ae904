import django_filters

from apps.goals.models import Goal
from apps.measurements.filters import TypeRefFilter


class GoalFilter(django_filters.FilterSet):
    type = TypeRefFilter()

    class Meta:
        model = Goal
        fields = ["status", "type"]
