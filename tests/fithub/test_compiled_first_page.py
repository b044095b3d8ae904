"""OwnedModelViewSet.compiled_first_page: the first page of an unfiltered list runs a statement
compiled once, and answers exactly what DRF's cursor pagination answers."""

import datetime as dt

import pytest

from apps.nutrition.api.views import DiaryEntryViewSet
from fithub.api import viewsets
from tests.conftest import client_for
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

DIARY = "/api/v1/diary/"


def _entries(user, count: int) -> None:
    start = dt.datetime(2026, 11, 1, 7, 0, tzinfo=dt.UTC)
    for n in range(count):
        # Every third entry shares its time with the previous one: the id breaks the tie.
        when = start + dt.timedelta(hours=5 * (n - n % 3 // 2))
        QuickAddEntryFactory(user=user, consumed_at=when, local_date=when.date(), energy_kcal=100.0 + n)


def _both(client, params: dict, monkeypatch) -> tuple[dict, dict]:
    compiled = client.get(DIARY, params)
    with monkeypatch.context() as patch:
        patch.setattr(DiaryEntryViewSet, "compiled_first_page", False)
        plain = client.get(DIARY, params)
    assert compiled.status_code == plain.status_code == 200
    return compiled.json(), plain.json()


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "page_size"), [(0, None), (3, None), (50, None), (51, None), (12, 5), (7, 7)])
def test_first_page_and_its_next_link_are_drfs(count, page_size, monkeypatch):
    user = UserFactory()
    _entries(user, count)
    client = client_for(user)
    params = {} if page_size is None else {"page_size": page_size}
    compiled, plain = _both(client, params, monkeypatch)
    assert compiled == plain
    assert len(compiled["results"]) == min(count, page_size or 50)
    assert compiled["previous"] is None
    if compiled["next"]:
        # The next page (a cursor: the usual path) continues where the compiled page stopped.
        following = client.get(compiled["next"]).json()
        seen = [row["id"] for row in compiled["results"]] + [row["id"] for row in following["results"]]
        assert len(set(seen)) == len(seen) == min(count, 2 * (page_size or 50))


@pytest.mark.django_db
def test_the_compiled_page_is_used_and_scoped_to_the_caller(monkeypatch, django_assert_num_queries):
    calls = []
    original = viewsets.OwnedModelViewSet._compiled_first_page
    monkeypatch.setattr(
        viewsets.OwnedModelViewSet,
        "_compiled_first_page",
        lambda self, serializer_class: calls.append(type(self)) or original(self, serializer_class),
    )
    mine, theirs = UserFactory(), UserFactory()
    _entries(mine, 4)
    _entries(theirs, 6)
    clients = {user: client_for(user) for user in (mine, theirs)}
    for user, count in ((mine, 4), (theirs, 6), (mine, 4)):
        with django_assert_num_queries(1):
            body = clients[user].get(DIARY).json()
        assert len(body["results"]) == count
    assert calls == [DiaryEntryViewSet] * 3


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"meal": "lunch"}, {"date": "2026-11-01"}])
def test_filtered_lists_take_the_usual_path(params, monkeypatch):
    monkeypatch.setattr(viewsets.OwnedModelViewSet, "_compiled_first_page", None)  # would fail if called
    user = UserFactory()
    _entries(user, 4)
    response = client_for(user).get(DIARY, params)
    assert response.status_code == 200
