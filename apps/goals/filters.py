import django_filters

from apps.goals.models import Goal
from apps.measurements.filters import filter_by_type_ref


class GoalFilter(django_filters.FilterSet):
    type = django_filters.CharFilter(
        method=lambda queryset, name, value: filter_by_type_ref(queryset, value),
        help_text="A type id or built-in key (`weight`).",
    )

    class Meta:
        model = Goal
        fields = ["status", "type"]
