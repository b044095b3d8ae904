import django_filters

from apps.nutrition.models import DiaryEntry, MealSlot, WaterEntry


class DiaryEntryFilter(django_filters.FilterSet):
    """Filters on the entry's local day (the user's time zone) and meal."""

    date = django_filters.DateFilter(field_name="local_date", help_text="One local day (YYYY-MM-DD).")
    date_after = django_filters.DateFilter(
        field_name="local_date", lookup_expr="gte", help_text="From this local day, inclusive."
    )
    date_before = django_filters.DateFilter(
        field_name="local_date", lookup_expr="lte", help_text="Up to this local day, inclusive."
    )
    meal = django_filters.ChoiceFilter(choices=MealSlot.choices)

    class Meta:
        model = DiaryEntry
        fields = ["date", "date_after", "date_before", "meal"]


class WaterEntryFilter(django_filters.FilterSet):
    """Filters on the drink's local day (the user's time zone)."""

    date = django_filters.DateFilter(field_name="local_date", help_text="One local day (YYYY-MM-DD).")
    date_after = django_filters.DateFilter(
        field_name="local_date", lookup_expr="gte", help_text="From this local day, inclusive."
    )
    date_before = django_filters.DateFilter(
        field_name="local_date", lookup_expr="lte", help_text="Up to this local day, inclusive."
    )

    class Meta:
        model = WaterEntry
        fields = ["date", "date_after", "date_before"]
