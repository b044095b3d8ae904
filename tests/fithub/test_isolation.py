"""One user never sees or changes another's rows: a matrix over every owned endpoint.

The endpoints are found in the URL conf (every route served by an OwnedViewSetMixin
viewset), so a new endpoint is covered the moment it is routed. Its model needs a row
maker in OWNED_ROWS below: the test fails until it has one.
"""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.goals.models import Goal
from apps.measurements.models import Measurement, MeasurementType
from apps.nutrition.models import DiaryEntry, Food, FoodPreference, Meal, NutritionTarget, WaterEntry
from fithub.api.viewsets import OwnedViewSetMixin
from fithub.models import Session
from tests.conftest import client_for
from tests.goals.factories import GoalFactory
from tests.measurements.factories import MeasurementFactory, MeasurementTypeFactory
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPreferenceFactory,
    MealFactory,
    QuickAddEntryFactory,
    WaterEntryFactory,
)
from tests.users.factories import SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

# How to make a row of each owned model for a given owner.
OWNED_ROWS = {
    Food: lambda user: CustomFoodFactory(user=user),
    FoodPreference: lambda user: FoodPreferenceFactory(user=user),
    Meal: lambda user: MealFactory(user=user),
    DiaryEntry: lambda user: QuickAddEntryFactory(user=user),
    MeasurementType: lambda user: MeasurementTypeFactory(user=user),
    Measurement: lambda user: MeasurementFactory(user=user),
    Goal: lambda user: GoalFactory(user=user),
    NutritionTarget: lambda user: NutritionTarget.objects.create(
        user=user, energy_kcal=2000, effective_from=dt.date(2026, 1, 1)
    ),
    Session: lambda user: SessionFactory(user=user),
    WaterEntry: lambda user: WaterEntryFactory(user=user),
}


def _owned_routes(patterns=None, prefix=""):
    """(route, url name, viewset class, {http method: action}) for each owned route."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _owned_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view_class = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None)
            if view_class and actions and issubclass(view_class, OwnedViewSetMixin):
                yield prefix + str(pattern.pattern), pattern.name, view_class, actions


ROUTES = list(_owned_routes())
DETAIL_CASES = [
    pytest.param(name, view_class, method, id=f"{method.upper()} {name}")
    for route, name, view_class, actions in ROUTES
    if "<pk>" in route or "(?P<pk>" in route
    for method in actions
    if method in view_class.http_method_names
]
LIST_CASES = [
    pytest.param(name, view_class, id=name)
    for route, name, view_class, actions in ROUTES
    if name.endswith("-list") and "get" in actions
]


def _row_for(view_class, owner):
    model = view_class.queryset.model
    assert model in OWNED_ROWS, f"add a row maker for {model.__name__} to OWNED_ROWS"
    return OWNED_ROWS[model](owner)


def _url(name, pk=None):
    from django.urls import reverse

    return reverse(name, kwargs={"pk": pk} if pk is not None else None)


def test_the_matrix_covers_every_app():
    covered = {view_class.queryset.model for _, _, view_class, _ in ROUTES}
    assert covered == set(OWNED_ROWS), "every owned model is routed and has a row maker"
    # Every owned model has a detail route to try (sessions have only DELETE).
    assert {case.values[1].queryset.model for case in DETAIL_CASES} == set(OWNED_ROWS)
    assert len(DETAIL_CASES) >= 3 * len(OWNED_ROWS) - 2


@pytest.mark.parametrize(("name", "view_class", "method"), DETAIL_CASES)
def test_another_users_object_is_404_for_every_method(name, view_class, method):
    owner, intruder = UserFactory(), UserFactory()
    row = _row_for(view_class, owner)
    response = getattr(client_for(intruder), method)(_url(name, row.pk), {}, format="json")
    assert response.status_code == 404, (method, name, response.status_code, response.content[:300])
    assert response.json()["errors"][0]["code"] == "not_found"
    # Still there, unchanged.
    assert type(row).objects.filter(pk=row.pk, updated_at=row.updated_at).exists()


@pytest.mark.parametrize(("name", "view_class"), LIST_CASES)
def test_lists_never_show_another_users_rows(name, view_class):
    owner, intruder = UserFactory(), UserFactory()
    row = _row_for(view_class, owner)
    mine = _row_for(view_class, intruder)
    response = client_for(intruder).get(_url(name), {"page_size": 200})
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert str(row.pk) not in ids
    assert str(mine.pk) in ids


@pytest.mark.parametrize(("name", "view_class", "method"), DETAIL_CASES)
def test_anonymous_callers_get_401_or_404_never_the_row(name, view_class, method, api_client):
    row = _row_for(view_class, UserFactory())
    response = getattr(api_client, method)(_url(name, row.pk), {}, format="json")
    # Public reads (food search) answer 404 for a private row; everything else needs a login.
    assert response.status_code in {401, 404}
    assert str(row.pk) not in response.content.decode()


# --- The sync feed -------------------------------------------------------------------------

# Owned rows the feed does not carry, and why.
NOT_SYNCED = {Session: "a signed-in device, not data a client keeps offline"}


@pytest.mark.parametrize("model", [m for m in OWNED_ROWS if m not in NOT_SYNCED], ids=lambda m: m.__name__)
def test_the_sync_feed_never_shows_another_users_rows(model, builtin_types):
    from tests.sync import pull

    owner, intruder = UserFactory(), UserFactory()
    row = OWNED_ROWS[model](owner)
    mine = OWNED_ROWS[model](intruder)
    seen = {change["id"] for change in pull(client_for(intruder))[0]}
    assert str(mine.pk) in seen
    assert str(row.pk) not in seen
    assert str(owner.pk) not in seen  # nor the other's profile
    # Nor a deletion of theirs.
    row_id = row.pk
    type(row).objects.filter(pk=row_id).delete()
    assert str(row_id) not in {change["id"] for change in pull(client_for(intruder))[0]}
