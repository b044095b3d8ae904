"""django-filter, run only when the request names one of the filterset's parameters."""

from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """Building a filterset (its form, a copy of every filter) costs more than reading a
    page of rows, and most list requests (the app's "recent entries") filter on nothing:
    those skip it. Our filtersets have no required filter and no default value, so a
    request without their parameters filters nothing either way; any parameter of theirs,
    valid or not, goes through django-filter as before (an invalid one is a 400)."""

    def filter_queryset(self, request, queryset, view):
        if not self.filters_requested(request, view, queryset):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def filters_requested(self, request, view, queryset=None) -> bool:
        """Whether the request names a parameter of the view's filterset (without a queryset,
        the view's `queryset` attribute stands for it: the filterset class is the same)."""
        filterset_class = self.get_filterset_class(view, view.queryset if queryset is None else queryset)
        if filterset_class is None:
            return False
        names = filterset_class.base_filters
        return any(_names_a_filter(param, names) for param in request.query_params)


def _names_a_filter(param: str, names) -> bool:
    # A range filter's parameters are its name plus a suffix (date_after, weight_min).
    return param in names or any(param.startswith(f"{name}_") for name in names)
