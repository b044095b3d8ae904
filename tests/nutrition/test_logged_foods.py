"""GET /foods/recent/ and /foods/frequent/: the foods a user logged, to log again quickly."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from apps.nutrition import selectors, services
from apps.nutrition.models import DiaryEntry
from tests.conftest import client_for
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    PublicFoodFactory,
    QuickAddEntryFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

RECENT = "/api/v1/foods/recent/"
FREQUENT = "/api/v1/foods/frequent/"


def _log(user, food, at, **amount):
    amount = amount or {"grams": 100.0}
    return services.log_food(user=user, meal="lunch", consumed_at=at, food=food, **amount).entries[0]


def _ago(**delta):
    return timezone.now() - dt.timedelta(**delta)


def _expected_recent(user):
    """The plain way: the user's food entries newest first, each food at its first sight."""
    entries = DiaryEntry.objects.filter(user=user, food__isnull=False, food__archived_at__isnull=True)
    seen, rows = set(), []
    for entry in entries.select_related("portion").order_by("-consumed_at", "-id"):
        if entry.food_id in seen:
            continue
        seen.add(entry.food_id)
        portion_ok = entry.portion is not None and entry.portion.archived_at is None
        rows.append(
            {
                "id": str(entry.food_id),
                "last_logged_at": entry.consumed_at,
                "grams": entry.grams,
                "portion": entry.portion_id if portion_ok else None,
                "quantity": entry.quantity if portion_ok else None,
            }
        )
    return rows


def _expected_frequent(user, now):
    since = now - dt.timedelta(days=selectors.FREQUENT_FOODS_DAYS)
    counts = {}
    for row in _expected_recent(user):
        counts[row["id"]] = {**row, "count": 0}
    entries = DiaryEntry.objects.filter(user=user, food__isnull=False, food__archived_at__isnull=True)
    for entry in entries.filter(consumed_at__gte=since):
        counts[str(entry.food_id)]["count"] += 1
    rows = [row for row in counts.values() if row["count"]]
    # The most logged first, then the latest logged, then the food id (descending).
    rows.sort(key=lambda row: (row["count"], row["last_logged_at"], row["id"]), reverse=True)
    return rows


def _shown(item):
    return {
        "id": item["id"],
        "last_logged_at": dt.datetime.fromisoformat(item["last_logged_at"]),
        "grams": item["grams"],
        "portion": item["portion"],
        "quantity": item["quantity"],
    }


def _all_pages(client, url, page_size):
    items, page = [], 1
    while True:
        response = client.get(url, {"page": page, "page_size": page_size})
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        if not body["next"]:
            return items, body["count"]
        page += 1


def _random_history(user, *, foods=12, entries=60, seed=17):
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    menu = [PublicFoodFactory() for _ in range(foods - 2)] + [CustomFoodFactory(user=user) for _ in range(2)]
    portions = {food.pk: FoodPortionFactory(food=food, grams=rng.choice([30.0, 120.0])) for food in menu[::3]}
    for _ in range(entries):
        food = rng.choice(menu)
        at = _ago(days=rng.randint(0, 200), minutes=rng.randint(0, 1440))
        if food.pk in portions and rng.random() < 0.5:
            _log(user, food, at, portion=portions[food.pk], quantity=rng.choice([0.5, 1.0, 2.0]))
        else:
            _log(user, food, at, grams=rng.choice([50.0, 150.0, 212.5]))
        if rng.random() < 0.3:
            QuickAddEntryFactory(user=user, consumed_at=at, local_date=at.date())
    return menu


def test_recent_lists_each_food_once_newest_first_with_its_last_amount(user, auth_client):
    _random_history(user)
    items, count = _all_pages(auth_client, RECENT, page_size=5)
    expected = _expected_recent(user)
    assert [_shown(item) for item in items] == expected
    assert count == len(expected) == len({item["id"] for item in items})
    # Each item is a whole food, as search shows it (name, nutrients, portions).
    assert {"name", "energy_kcal", "portions", "is_favorite"} <= set(items[0])


def test_recent_shows_a_portion_and_quantity_or_grams(user, auth_client):
    by_grams, by_portion = PublicFoodFactory(), PublicFoodFactory()
    cup = FoodPortionFactory(food=by_portion, grams=240.0)
    _log(user, by_portion, _ago(hours=2), portion=cup, quantity=1.5)
    _log(user, by_grams, _ago(hours=3), portion=FoodPortionFactory(food=by_grams), quantity=1)
    _log(user, by_grams, _ago(hours=1), grams=80)  # the latest entry counts, not the first
    results = auth_client.get(RECENT).json()["results"]
    assert [(r["id"], r["grams"], r["portion"], r["quantity"]) for r in results] == [
        (str(by_grams.pk), 80.0, None, None),
        (str(by_portion.pk), 360.0, cup.pk, 1.5),
    ]


def test_archived_foods_and_portions_are_not_offered_again(user, auth_client):
    archived, kept = CustomFoodFactory(user=user), PublicFoodFactory()
    old_cup = FoodPortionFactory(food=kept, grams=200.0)
    _log(user, archived, _ago(hours=1))
    _log(user, kept, _ago(hours=2), portion=old_cup, quantity=2)
    services.delete_food(food=archived)  # in use: archived
    old_cup.archived_at = timezone.now()
    old_cup.save()
    for url in (RECENT, FREQUENT):
        body = auth_client.get(url).json()
        assert [(r["id"], r["grams"], r["portion"], r["quantity"]) for r in body["results"]] == [
            (str(kept.pk), 400.0, None, None)
        ]
        assert body["count"] == 1


def test_frequent_counts_the_last_90_days(user, auth_client):
    _random_history(user, entries=80, seed=3)
    now = timezone.now()
    items, count = _all_pages(auth_client, FREQUENT, page_size=4)
    expected = _expected_frequent(user, now)
    assert [{**_shown(item), "count": item["count"]} for item in items] == expected
    assert count == len(expected)
    assert len(expected) < len(_expected_recent(user))  # some foods were eaten only long ago


def test_frequent_ranks_by_count_then_latest(user, auth_client):
    often, twice, old = PublicFoodFactory(), PublicFoodFactory(), PublicFoodFactory()
    for days in (1, 5, 9):
        _log(user, often, _ago(days=days))
    _log(user, twice, _ago(hours=1))
    _log(user, twice, _ago(days=89))
    for days in (91, 92, 93, 94):  # more entries, but before the 90 days
        _log(user, old, _ago(days=days))
    results = auth_client.get(FREQUENT).json()["results"]
    assert [(r["id"], r["count"]) for r in results] == [(str(often.pk), 3), (str(twice.pk), 2)]
    recent = auth_client.get(RECENT).json()["results"]
    assert [r["id"] for r in recent] == [str(twice.pk), str(often.pk), str(old.pk)]


def test_only_the_callers_entries_count():
    me, other = UserFactory(), UserFactory()
    shared, mine_only = PublicFoodFactory(), PublicFoodFactory()
    theirs = CustomFoodFactory(user=other)
    _log(me, shared, _ago(days=2))
    _log(me, mine_only, _ago(days=3))
    for days in range(5):
        _log(other, shared, _ago(hours=days))
        _log(other, theirs, _ago(hours=days))
    client = client_for(me)
    recent = client.get(RECENT).json()
    assert [(r["id"], r["last_logged_at"][:10]) for r in recent["results"]] == [
        (str(shared.pk), _ago(days=2).isoformat()[:10]),
        (str(mine_only.pk), _ago(days=3).isoformat()[:10]),
    ]
    assert recent["count"] == 2
    frequent = client.get(FREQUENT).json()["results"]
    assert [(r["id"], r["count"]) for r in frequent] == [(str(shared.pk), 1), (str(mine_only.pk), 1)]
    assert str(theirs.pk) not in str(recent) + str(frequent)
    # Someone with no history: empty lists.
    for url in (RECENT, FREQUENT):
        empty = client_for(UserFactory()).get(url).json()
        assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)


@pytest.mark.parametrize("url", [RECENT, FREQUENT])
def test_anonymous_callers_are_401(api_client, url):
    assert api_client.get(url).status_code == 401


@pytest.mark.parametrize("url", [RECENT, FREQUENT])
@pytest.mark.parametrize(
    ("params", "status", "attr"),
    [
        ({"page": "0"}, 400, "page"),
        ({"page": "x"}, 400, "page"),
        ({"page_size": "-1"}, 400, "page_size"),
        ({"page_size": "1e3"}, 400, "page_size"),
        ({"page": "99"}, 404, None),
        ({"page": str(2**62)}, 404, None),
    ],
)
def test_bad_pages_are_4xx_naming_the_parameter(user, auth_client, url, params, status, attr):
    _log(user, PublicFoodFactory(), _ago(hours=1))
    response = auth_client.get(url, params)
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["attr"] == attr


@pytest.mark.parametrize("url", [RECENT, FREQUENT])
def test_page_last_is_the_last_page(user, auth_client, url):
    foods = [PublicFoodFactory() for _ in range(7)]
    for index, food in enumerate(foods):
        _log(user, food, _ago(hours=index + 1))
    body = auth_client.get(url, {"page": "last", "page_size": 3}).json()
    assert body["count"] == 7
    assert [r["id"] for r in body["results"]] == [str(foods[-1].pk)]
    assert body["next"] is None


@pytest.mark.parametrize("url", [RECENT, FREQUENT])
@pytest.mark.parametrize(("foods", "entries"), [(3, 10), (40, 400)])
def test_one_query_whatever_the_history(user, auth_client, django_assert_num_queries, url, foods, entries):
    menu = [PublicFoodFactory() for _ in range(foods)]
    for food in menu:
        FoodPortionFactory(food=food)
    rng = random.Random(foods)  # noqa: S311 - test data, not secrets
    for index in range(entries):
        _log(user, menu[index % foods] if index < foods else rng.choice(menu), _ago(days=rng.randint(0, 80)))
    with django_assert_num_queries(1):  # the page with its count, portions and preferences
        response = auth_client.get(url, {"page_size": 20})
    body = response.json()
    assert body["count"] == foods
    assert len(body["results"]) == min(foods, 20)
    assert all(len(item["portions"]) == 1 for item in body["results"])


def test_preferences_show_on_recent_foods(user, auth_client):
    food = PublicFoodFactory()
    services.set_preference(user=user, food=food, favorite=True, allergy=True)
    _log(user, food, _ago(hours=1))
    (item,) = auth_client.get(RECENT).json()["results"]
    assert (item["is_favorite"], item["is_allergen"], item["is_disliked"]) == (True, True, False)
