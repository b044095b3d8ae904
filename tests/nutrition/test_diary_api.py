import datetime as dt

import pytest
from django.urls import reverse

from apps.nutrition.models import DiaryEntry
from tests.nutrition.factories import (
    CustomFoodFactory,
    FoodPortionFactory,
    FoodPreferenceFactory,
    PublicFoodFactory,
    QuickAddEntryFactory,
)
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
DIARY = reverse("diary-list")
SUMMARY = reverse("diary-summary")


def detail(entry_id) -> str:
    return reverse("diary-detail", args=[entry_id])


def log(client, **data):
    data.setdefault("meal", "lunch")
    data.setdefault("consumed_at", "2026-11-21T12:00:00Z")
    return client.post(DIARY, data, format="json")


def test_log_food_in_grams_keeps_the_nutrients_it_contributed(auth_client, user):
    food = PublicFoodFactory(energy_kcal=200, protein_g=10, fat_g=5, carbohydrate_g=30, sodium_mg=None)
    response = log(auth_client, food=str(food.pk), grams=150)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["grams"], body["energy_kcal"], body["protein_g"], body["fat_g"]) == (150, 300, 15, 7.5)
    assert (body["carbohydrate_g"], body["sodium_mg"]) == (45, 0)
    assert (body["label"], body["local_date"], body["warnings"]) == (food.name, "2026-11-21", [])
    assert DiaryEntry.objects.get(pk=body["id"]).user == user


def test_log_a_portion_and_quantity(auth_client):
    portion = FoodPortionFactory(grams=40)
    response = log(auth_client, food=str(portion.food_id), portion=portion.pk, quantity=2.5)
    assert response.status_code == 201, response.content
    assert (response.json()["grams"], response.json()["energy_kcal"]) == (100, 200)
    one = log(auth_client, food=str(portion.food_id), portion=portion.pk)
    assert (one.json()["quantity"], one.json()["grams"]) == (1, 40)


@pytest.mark.parametrize(
    "payload",
    [
        {"grams": -5},
        {"grams": 0},
        {"grams": "NaN"},
        {"grams": 1e9},
        {"grams": "many"},
        {},
        {"quantity": 2},
        {"consumed_at": "2026-13-45T12:00:00Z", "grams": 100},
        {"consumed_at": "yesterday", "grams": 100},
        {"meal": "brunch", "grams": 100},
    ],
)
def test_bad_amounts_and_dates_are_400(auth_client, payload):
    food = PublicFoodFactory()
    response = log(auth_client, food=str(food.pk), **payload)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"


def test_unknown_or_someone_elses_food_is_400(auth_client):
    for food_id in ("0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d", str(CustomFoodFactory().pk), "nope"):
        response = log(auth_client, food=food_id, grams=100)
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "food"


def test_a_portion_of_another_food_is_400(auth_client):
    portion = FoodPortionFactory()
    other = PublicFoodFactory()
    response = log(auth_client, food=str(other.pk), portion=portion.pk, quantity=1)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "portion"
    someone_elses = FoodPortionFactory(food=CustomFoodFactory())
    response = log(auth_client, food=str(someone_elses.food_id), portion=someone_elses.pk)
    assert response.status_code == 400


def test_quick_add(auth_client):
    response = log(auth_client, label="Burrito at Luisa's", energy_kcal=850, protein_g=38, meal="dinner")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["food"], body["label"], body["energy_kcal"], body["protein_g"], body["fat_g"]) == (
        None,
        "Burrito at Luisa's",
        850,
        38,
        0,
    )
    assert log(auth_client, label="No energy").status_code == 400
    assert log(auth_client, energy_kcal=100).status_code == 400
    assert log(auth_client, label="Negative", energy_kcal=-1).status_code == 400


def test_an_entry_at_2330_in_los_angeles_counts_on_that_local_day(user, auth_client):
    user.timezone = "America/Los_Angeles"
    user.save()
    food = PublicFoodFactory(energy_kcal=100)
    late = log(auth_client, food=str(food.pk), grams=100, consumed_at="2026-11-21T23:30:00-08:00").json()
    same_moment_in_utc = log(auth_client, food=str(food.pk), grams=100, consumed_at="2026-11-22T07:30:00Z").json()
    assert late["local_date"] == same_moment_in_utc["local_date"] == "2026-11-21"
    days = auth_client.get(SUMMARY, {"start": "2026-11-21", "end": "2026-11-22"}).json()["days"]
    assert [(day["date"], day["totals"]["energy_kcal"]) for day in days] == [("2026-11-21", 200), ("2026-11-22", 0)]
    assert [e["id"] for e in auth_client.get(DIARY, {"date": "2026-11-21"}).json()["results"]] == [
        same_moment_in_utc["id"],
        late["id"],
    ]


def test_editing_recomputes_nutrients_and_editing_the_food_does_not_rewrite_history(auth_client, user):
    food = CustomFoodFactory(user=user, energy_kcal=100)
    entry = log(auth_client, food=str(food.pk), grams=100).json()
    response = auth_client.patch(detail(entry["id"]), {"grams": 250}, format="json")
    assert (response.status_code, response.json()["energy_kcal"]) == (200, 250)

    assert auth_client.patch(reverse("foods-detail", args=[food.pk]), {"energy_kcal": 400}).status_code == 200
    assert auth_client.get(detail(entry["id"])).json()["energy_kcal"] == 250
    assert auth_client.delete(reverse("foods-detail", args=[food.pk])).status_code == 204
    kept = auth_client.get(detail(entry["id"])).json()
    # The entry keeps its food, archived rather than deleted.
    assert (kept["food"], kept["energy_kcal"], kept["label"]) == (str(food.pk), 250, food.name)

    portion = FoodPortionFactory(grams=30)
    moved = auth_client.patch(
        detail(entry["id"]), {"food": str(portion.food_id), "portion": portion.pk, "quantity": 2}, format="json"
    ).json()
    assert (moved["grams"], moved["energy_kcal"], moved["meal"]) == (60, 120, "lunch")
    assert auth_client.patch(detail(entry["id"]), {"quantity": 3}, format="json").json()["grams"] == 90
    moved_day = auth_client.patch(detail(entry["id"]), {"consumed_at": "2026-11-25T08:00:00Z"}, format="json")
    assert moved_day.json()["local_date"] == "2026-11-25"
    assert auth_client.patch(detail(entry["id"]), {"grams": -1}, format="json").status_code == 400


def test_logging_an_allergy_food_succeeds_with_a_warning(auth_client, user):
    food = PublicFoodFactory(name="Peanuts, raw")
    FoodPreferenceFactory(user=user, food=food, allergy=True)
    response = log(auth_client, food=str(food.pk), grams=30)
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        {"code": "allergy", "food": str(food.pk), "detail": "You marked 'Peanuts, raw' as an allergy."}
    ]


def test_entries_are_private(auth_client):
    theirs = QuickAddEntryFactory(user=UserFactory())
    assert auth_client.get(DIARY).json()["results"] == []
    assert auth_client.get(detail(theirs.pk)).status_code == 404
    assert auth_client.patch(detail(theirs.pk), {"grams": 5}, format="json").status_code == 404
    assert auth_client.delete(detail(theirs.pk)).status_code == 404
    assert DiaryEntry.objects.filter(pk=theirs.pk).exists()


def test_filters(auth_client, user):
    def at(day, meal):
        moment = dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC)
        return QuickAddEntryFactory(user=user, meal=meal, consumed_at=moment, local_date=moment.date())

    a, b, c = at(19, "breakfast"), at(20, "lunch"), at(21, "breakfast")

    def ids(**params):
        response = auth_client.get(DIARY, params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["results"]}

    assert ids(date="2026-11-20") == {str(b.pk)}
    assert ids(date_after="2026-11-20") == {str(b.pk), str(c.pk)}
    assert ids(date_before="2026-11-20") == {str(a.pk), str(b.pk)}
    assert ids(date_after="2026-11-20", date_before="2026-11-20") == {str(b.pk)}
    assert ids(meal="breakfast") == {str(a.pk), str(c.pk)}
    for bad in ({"date": "2026-02-30"}, {"date_after": "soon"}, {"meal": "brunch"}):
        assert auth_client.get(DIARY, bad).status_code == 400


def test_delete_entry(auth_client, user):
    entry = QuickAddEntryFactory(user=user)
    assert auth_client.delete(detail(entry.pk)).status_code == 204
    assert not DiaryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("page_size", [5, 100])
def test_diary_list_query_count_is_constant(auth_client, user, django_assert_num_queries, page_size):
    QuickAddEntryFactory.create_batch(120, user=user)
    with django_assert_num_queries(1):  # the page (the user comes from the token; a cursor needs no count)
        response = auth_client.get(DIARY, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
    assert response.json()["next"]


def test_logging_costs_a_few_statements_not_one_per_constraint(auth_client, django_assert_max_num_queries):
    """Model validation checks every check constraint with a query in a savepoint; the
    service's values hold them by construction (49 statements an entry, before)."""
    food = PublicFoodFactory()
    with django_assert_max_num_queries(16):  # with its Idempotency-Key and savepoints
        response = auth_client.post(
            DIARY,
            {"food": str(food.pk), "grams": 150, "meal": "lunch", "consumed_at": "2026-11-21T12:00:00Z"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="log-once",
        )
    assert response.status_code == 201


# --- Summary ----------------------------------------------------------------------------


def test_summary_equals_the_sum_of_entries_with_zero_days(auth_client, user):
    food = PublicFoodFactory(energy_kcal=123.4, protein_g=7.7, fat_g=3.3, carbohydrate_g=11.1, fiber_g=1.2)
    posted = [
        log(auth_client, food=str(food.pk), grams=grams, meal=meal, consumed_at=at).json()
        for grams, meal, at in [
            (80, "breakfast", "2026-11-01T08:00:00Z"),
            (215, "dinner", "2026-11-01T19:00:00Z"),
            (33, "snack", "2026-11-03T15:00:00Z"),
        ]
    ]
    posted.append(log(auth_client, label="Pizza", energy_kcal=900, fat_g=40, meal="dinner").json())  # 2026-11-21
    QuickAddEntryFactory(user=UserFactory(), local_date=dt.date(2026, 11, 1), energy_kcal=5000)  # someone else's

    response = auth_client.get(SUMMARY, {"start": "2026-11-01", "end": "2026-11-21"})
    assert response.status_code == 200, response.content
    days = {day["date"]: day for day in response.json()["days"]}
    assert len(days) == 21
    for name in ("energy_kcal", "protein_g", "fat_g", "carbohydrate_g", "fiber_g"):
        expected = sum(entry[name] for entry in posted)
        assert sum(day["totals"][name] for day in days.values()) == pytest.approx(expected, abs=0.05)
    first = days["2026-11-01"]
    assert first["entry_count"] == 2
    both = posted[0]["energy_kcal"] + posted[1]["energy_kcal"]
    assert first["totals"]["energy_kcal"] == pytest.approx(both, abs=0.01)
    assert first["by_meal"]["breakfast"]["energy_kcal"] == pytest.approx(posted[0]["energy_kcal"], abs=0.01)
    assert first["by_meal"]["dinner"]["protein_g"] == pytest.approx(posted[1]["protein_g"], abs=0.01)
    assert first["by_meal"]["lunch"] == {"energy_kcal": 0, "protein_g": 0, "fat_g": 0, "carbohydrate_g": 0}
    assert days["2026-11-02"]["entry_count"] == 0
    assert days["2026-11-02"]["totals"]["energy_kcal"] == 0
    assert days["2026-11-21"]["by_meal"]["dinner"]["energy_kcal"] == 900


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-11-01"},
        {"start": "2026-11-10", "end": "2026-11-01"},
        {"start": "2025-01-01", "end": "2026-01-02"},
        {"start": "2026-02-30", "end": "2026-03-01"},
        {"start": "x", "end": "y"},
    ],
)
def test_summary_bad_ranges_are_400(auth_client, params):
    response = auth_client.get(SUMMARY, params)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_summary_allows_366_days(auth_client):
    response = auth_client.get(SUMMARY, {"start": "2024-01-01", "end": "2024-12-31"})
    assert (response.status_code, len(response.json()["days"])) == (200, 366)


@pytest.mark.parametrize("days", [7, 300])
def test_summary_query_count_is_constant(auth_client, user, django_assert_num_queries, days):
    start = dt.date(2026, 1, 1)
    for offset in range(0, days, 3):
        QuickAddEntryFactory(user=user, local_date=start + dt.timedelta(days=offset))
    end = start + dt.timedelta(days=days - 1)
    # The aggregate and the targets in force, sent together in one round trip (the user comes
    # from the token).
    with django_assert_num_queries(1) as captured:
        response = auth_client.get(SUMMARY, {"start": start.isoformat(), "end": end.isoformat()})
    (statement,) = [query["sql"] for query in captured.captured_queries]
    assert "nutrition_diaryentry" in statement
    assert "goals_nutritiontarget" in statement
    assert len(response.json()["days"]) == days
