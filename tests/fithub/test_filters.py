"""The filter backend skips django-filter when no parameter names a filter, and only then."""

import pytest
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.nutrition.api.views import DiaryEntryViewSet
from apps.nutrition.models import DiaryEntry
from fithub.api.filters import FilterBackend
from tests.nutrition.factories import QuickAddEntryFactory

pytestmark = pytest.mark.django_db
DIARY = reverse("diary-list")


def _filter(query: dict):
    queryset = DiaryEntry.objects.all()
    request = Request(APIRequestFactory().get(DIARY, query))
    return queryset, FilterBackend().filter_queryset(request, queryset, DiaryEntryViewSet())


@pytest.mark.parametrize("query", [{}, {"page_size": 5}, {"cursor": "abc", "ordering": "x"}])
def test_no_filter_parameter_no_filterset(query):
    queryset, filtered = _filter(query)
    assert filtered is queryset


@pytest.mark.parametrize("query", [{"meal": "lunch"}, {"date_after": "2026-11-01"}, {"date": "2026-11-20"}])
def test_a_filter_parameter_filters(query):
    QuickAddEntryFactory(meal="dinner", local_date="2026-10-01")
    queryset, filtered = _filter(query)
    assert filtered is not queryset
    assert list(filtered) == []


def test_an_invalid_filter_value_is_still_a_400(auth_client):
    response = auth_client.get(DIARY, {"date_after": "not-a-date"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "date_after"
