"""Every owned list, filtered or not, is one cached statement and answers what the plain ORM does.

The reference for each list is the queryset a reader would write: the viewset's base
queryset, the caller's rows, the FilterSet applied by django-filter itself, in the list's
order. Pages are followed through their `next` links, and back through `previous`.
"""

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django_filters.utils import translate_validation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.goals.api.views import GoalViewSet
from apps.goals.filters import GoalFilter
from apps.goals.models import Goal
from apps.measurements.api.views import MeasurementViewSet
from apps.measurements.filters import MeasurementFilter
from apps.nutrition.api.views import DiaryEntryViewSet
from apps.nutrition.filters import DiaryEntryFilter
from fithub.api import viewsets
from tests.conftest import client_for
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
DIARY, MEASUREMENTS, GOALS = "/api/v1/diary/", "/api/v1/measurements/", "/api/v1/goals/"


def _walk(client: APIClient, url: str, params: dict) -> list[dict]:
    pages, query = [], params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.json()
        pages.append(response.json())
        url, query = pages[-1]["next"], None
    return pages


def _walk_back(client: APIClient, last: dict) -> list[dict]:
    pages, url = [], last["previous"]
    while url:
        pages.append(client.get(url).json())
        url = pages[-1]["previous"]
    return pages


def _ids(pages: list[dict]) -> list[str]:
    return [row["id"] for page in pages for row in page["results"]]


@pytest.fixture
def diary_user():
    user = UserFactory()
    start = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    for n in range(23):
        # Every third entry shares its time with the one before: the id breaks the tie.
        when = start + dt.timedelta(hours=9 * (n - n % 3 // 2))
        QuickAddEntryFactory(user=user, consumed_at=when, local_date=when.date(), meal=["lunch", "dinner"][n % 2])
    QuickAddEntryFactory(local_date=dt.date(2026, 11, 2), meal="lunch")  # someone else's
    return user


DIARY_QUERIES = [
    {},
    {"page_size": 5},
    {"meal": "lunch", "page_size": 4},
    {"date": "2026-11-02"},
    {"date_after": "2026-11-03", "date_before": "2026-11-06", "page_size": 3},
    {"meal": "dinner", "date_after": "2026-11-04", "page_size": 1},
    {"date": "2027-01-01"},
]


@pytest.mark.parametrize("params", DIARY_QUERIES)
def test_diary_pages_are_the_filtered_queryset_in_order(diary_user, params):
    client = client_for(diary_user)
    pages = _walk(client, DIARY, params)
    filters = {key: value for key, value in params.items() if key != "page_size"}
    base = DiaryEntryViewSet().get_base_queryset().filter(user=diary_user)
    expected = DiaryEntryFilter(filters, queryset=base).qs.order_by("-consumed_at", "-id")
    assert _ids(pages) == [str(pk) for pk in expected.values_list("id", flat=True)]
    size = params.get("page_size", 50)
    assert all(len(page["results"]) == size for page in pages[:-1])
    assert pages[0]["previous"] is None
    back = _walk_back(client, pages[-1])
    assert [page["results"] for page in reversed(back)] == [page["results"] for page in pages[:-1]]


@pytest.mark.parametrize(
    "params",
    [{}, {"type": "weight"}, {"type": "weight", "page_size": 2}, {"start": "2026-11-02T00:00:00Z"}, {"type": "x"}],
)
def test_measurement_pages_are_the_filtered_queryset_in_order(builtin_types, params):
    user = UserFactory()
    start = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC)
    own_type = MeasurementTypeFactory(user=user, unit="mm")
    for n in range(9):
        when = start + dt.timedelta(hours=7 * (n - n % 3 // 2))
        MeasurementFactory(user=user, value=Decimal(80) - n, measured_at=when, entered_unit="lb" if n % 2 else "kg")
        MeasurementFactory(user=user, type=builtin_types["waist"], value=Decimal(90) + n, measured_at=when)
    MeasurementFactory(user=user, type=own_type, value=Decimal("12.3"))
    MeasurementFactory(value=Decimal(100))  # someone else's
    client = client_for(user)
    pages = _walk(client, MEASUREMENTS, params)
    filters = {key: value for key, value in params.items() if key != "page_size"}
    base = MeasurementViewSet().get_base_queryset().filter(user=user)
    expected = MeasurementFilter(filters, queryset=base).qs.order_by("-measured_at", "-id")
    assert _ids(pages) == [str(pk) for pk in expected.values_list("id", flat=True)]
    # By id, the same as by key.
    if params.get("type") == "weight":
        by_id = _walk(client, MEASUREMENTS, {**params, "type": str(builtin_types["weight"].pk)})
        assert [page["results"] for page in by_id] == [page["results"] for page in pages]


@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"type": "weight"}, {"status": "achieved"}])
def test_goal_pages_are_the_filtered_queryset(builtin_types, params):
    user = UserFactory()
    for n, key in enumerate(["weight", "waist", "weight", "body_fat"]):
        GoalFactory(user=user, type=builtin_types[key], status="active" if n < 2 else "abandoned")
    GoalFactory()  # someone else's
    pages = _walk(client_for(user), GOALS, {**params, "page_size": 2})
    base = GoalViewSet().get_base_queryset().filter(user=user)
    expected = GoalFilter(params, queryset=base).qs
    assert sorted(_ids(pages)) == sorted(str(pk) for pk in expected.values_list("id", flat=True))
    assert pages[0]["count"] == expected.count()


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (DIARY, {"date_after": "not-a-date"}),
        (DIARY, {"meal": "brunch", "date": "2026-13-01"}),
        (MEASUREMENTS, {"start": "yesterday"}),
        (GOALS, {"status": "maybe"}),
    ],
)
def test_a_bad_filter_value_is_django_filters_400(url, params):
    filterset_class = {DIARY: DiaryEntryFilter, MEASUREMENTS: MeasurementFilter, GOALS: GoalFilter}[url]
    filterset = filterset_class(params, queryset=filterset_class._meta.model.objects.none())
    assert not filterset.is_valid()
    expected = translate_validation(filterset.errors).detail
    response = client_for(UserFactory()).get(url, params)
    assert response.status_code == 400
    got = {error["attr"]: error for error in response.json()["errors"]}
    assert set(got) == set(expected)
    for name, messages in expected.items():
        assert got[name]["detail"] == str(messages[0])
        assert got[name]["code"] == messages[0].code


@pytest.mark.parametrize(("url", "params"), [(DIARY, {}), (DIARY, {"meal": "lunch", "date_after": "2026-11-02"})])
def test_each_page_is_one_statement_built_once_per_shape(
    diary_user, url, params, monkeypatch, django_assert_num_queries
):
    builds = []
    original = viewsets.Listing._build
    monkeypatch.setattr(
        viewsets.Listing, "_build", lambda self, shape, values: builds.append(shape) or original(self, shape, values)
    )
    viewsets.Listing.of.cache_clear()
    client = client_for(diary_user)
    first = client.get(url, {**params, "page_size": 3}).json()
    with django_assert_num_queries(1):
        client.get(first["next"])
    with django_assert_num_queries(1):
        client.get(url, {**params, "page_size": 3})
    other = client_for(UserFactory())
    with django_assert_num_queries(1):
        assert other.get(url, {**params, "page_size": 3}).json()["results"] == []
    # Compiled twice per shape (the second time with made-up values): the first page and a
    # cursor page are two shapes; the repeats and the other user reuse them.
    assert len(builds) == 4
    assert len(set(builds)) == 2


@pytest.mark.parametrize(
    "cursor",
    [
        "zzz",
        base64.urlsafe_b64encode(b"p=9999-12-31T23:59:59-23:59&i=0193a1c3-1111-7a3b-8c4d-2e1f0a9b8c7d").decode(),
        base64.urlsafe_b64encode(b"p=2026-11-01T07:00:00&i=0193a1c3-1111-7a3b-8c4d-2e1f0a9b8c7d").decode(),
        base64.urlsafe_b64encode(b"p=2026-11-01T07:00:00Z&i=nope").decode(),
        base64.urlsafe_b64encode(b"i=0193a1c3-1111-7a3b-8c4d-2e1f0a9b8c7d").decode(),
    ],
)
@pytest.mark.parametrize("url", [DIARY, MEASUREMENTS])
def test_a_forged_cursor_is_a_400_naming_cursor(url, cursor):
    response = client_for(UserFactory()).get(url, {"cursor": cursor})
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("cursor", "invalid")]


def test_a_cursor_time_with_an_offset_postgresql_refuses_is_read_in_utc(diary_user):
    """Python reads +20:00, PostgreSQL refuses it: the position is compared in UTC, so it pages like Z."""
    client = client_for(diary_user)
    first = client.get(DIARY, {"page_size": 2}).json()
    last = first["results"][-1]
    when = dt.datetime.fromisoformat(last["consumed_at"].replace("Z", "+00:00"))
    shifted = when.astimezone(dt.timezone(dt.timedelta(hours=20))).isoformat()
    raw = f"p={shifted.replace('+', '%2B')}&i={last['id']}".encode()
    cursor = base64.urlsafe_b64encode(raw).decode()
    assert (
        client.get(DIARY, {"page_size": 2, "cursor": cursor}).json()["results"]
        == (client.get(first["next"]).json()["results"])
    )


def test_page_number_lists_count_in_the_page_query(builtin_types, django_assert_num_queries):
    user = UserFactory()
    for key in ["weight", "waist", "body_fat"]:
        GoalFactory(user=user, type=builtin_types[key])
    client = client_for(user)
    with django_assert_num_queries(1):
        body = client.get(GOALS, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert client.get(body["next"]).json()["previous"] is not None
    assert client.get(GOALS, {"page": 3, "page_size": 2}).status_code == 404
    assert (
        client.get(GOALS, {"page": "last", "page_size": 2}).json()["results"][0]["id"]
        == (client.get(body["next"]).json()["results"][0]["id"])
    )
    assert Goal.objects.filter(user=user).count() == 3


LISTS = [DIARY, MEASUREMENTS, GOALS, "/api/v1/meals/", "/api/v1/measurement-types/", "/api/v1/foods/"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(
    ("param", "value"),
    [("page_size", "null"), ("page_size", ""), ("page_size", "0"), ("page_size", "-1"), ("page_size", "1.5"),
     ("page_size", "٣"), ("page", ""), ("page", "0"), ("page", "x"), ("page", "²")],
)  # fmt: skip
def test_a_bad_page_parameter_is_a_400_naming_it(url, param, value):
    response = client_for(UserFactory()).get(url, {param: value})
    if param == "page" and url in (DIARY, MEASUREMENTS):  # cursor lists have no page: ignored
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.json()
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(param, "invalid")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=st.sampled_from(LISTS),
    params=st.dictionaries(st.sampled_from(["page", "page_size", "cursor"]), st.text(max_size=40), max_size=3),
)
def test_any_page_parameters_are_a_4xx_or_a_page(user, url, params):
    response = client_for(user).get(url, params)
    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code == 400:
        assert {e["attr"] for e in response.json()["errors"]} <= set(params) | {"search", "barcode"}


@pytest.mark.parametrize(
    ("url", "param"),
    [(DIARY, "meal"), (DIARY, "date"), (DIARY, "date_after"), (MEASUREMENTS, "type"), (MEASUREMENTS, "start"),
     (GOALS, "status"), (GOALS, "type")],
)  # fmt: skip
def test_a_filter_named_with_no_value_is_a_400_naming_it(url, param):
    response = client_for(UserFactory()).get(url, {param: ""})
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(param, "required")]
