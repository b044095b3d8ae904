"""Food search: pages that carry their count, a constant number of queries, the stored search name."""

import json

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.nutrition.factories import CustomFoodFactory, FoodPortionFactory, FoodPreferenceFactory, PublicFoodFactory

pytestmark = pytest.mark.django_db
FOODS = reverse("foods-list")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [food["name"] for food in response.json()["results"]]


def test_search_pages_carry_the_count_of_every_match(auth_client):
    for index in range(12):
        PublicFoodFactory(name=f"Bean {index:02d}, raw")
    PublicFoodFactory(name="Rice, raw")
    first = auth_client.get(FOODS, {"search": "bean", "page_size": 5}).json()
    assert first["count"] == 12
    assert first["previous"] is None
    assert "page=2" in first["next"]
    last = auth_client.get(FOODS, {"search": "bean", "page_size": 5, "page": 3}).json()
    assert (last["count"], last["next"], len(last["results"])) == (12, None, 2)
    assert "page=2" in last["previous"]
    pages = [names(auth_client.get(FOODS, {"search": "bean", "page_size": 5, "page": page})) for page in (1, 2, 3)]
    assert sorted(name for page in pages for name in page) == [f"Bean {index:02d}, raw" for index in range(12)]
    assert names(auth_client.get(FOODS, {"search": "bean", "page_size": 5, "page": "last"})) == pages[2]


@pytest.mark.parametrize(("page", "status"), [("4", 404), ("0", 400), ("-1", 400), ("abc", 400), ("1.5", 400)])
def test_a_page_past_the_end_is_404_and_a_malformed_one_400(auth_client, page, status):
    for index in range(6):
        PublicFoodFactory(name=f"Bean {index}, raw")
    response = auth_client.get(FOODS, {"search": "bean", "page_size": 2, "page": page})
    assert response.status_code == status
    if status == 400:
        assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("page", "invalid")]


def test_no_match_is_an_empty_first_page(auth_client):
    PublicFoodFactory(name="Rice, raw")
    body = auth_client.get(FOODS, {"search": "zzzz"}).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


def _search_queries(client, query: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connections["default"]) as queries:
        response = client.get(FOODS, {"search": query, "page_size": 20})
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the page with its count and portions (the user comes from the token)
        ("bean", 1),
        # the empty page of plain matches, the fuzzy page (the connection has the threshold)
        ("beann", 2),
    ],
)
def test_search_query_count_is_the_same_for_3_and_150_matches(auth_client, user, query, expected):
    counts = []
    for size in (3, 150):
        for index in range(len(counts) * 3, size):
            food = PublicFoodFactory(name=f"Bean {index}, raw")
            FoodPortionFactory(food=food)
            FoodPortionFactory(food=food)
            FoodPreferenceFactory(user=user, food=food, favorite=index % 3 == 0, allergy=index % 3 == 1)
        CustomFoodFactory(user=user, name=f"My bean salad {size}")
        count, body = _search_queries(auth_client, query)
        assert body["count"] == size + len(counts) + 1
        assert all(len(food["portions"]) == 2 for food in body["results"] if food["source"] == "usda")
        counts.append(count)
    assert counts == [expected, expected]


def test_later_pages_of_a_typo_search_continue_the_first(auth_client, django_assert_max_num_queries):
    for index in range(7):
        PublicFoodFactory(name=f"Chicken breast {index}, raw")
    first = auth_client.get(FOODS, {"search": "chiken brest", "page_size": 4}).json()
    with django_assert_max_num_queries(2):  # probe, page; no count query
        second = auth_client.get(FOODS, {"search": "chiken brest", "page_size": 4, "page": 2}).json()
    assert first["count"] == second["count"] == 7
    seen = [food["name"] for food in first["results"] + second["results"]]
    assert sorted(seen) == [f"Chicken breast {index}, raw" for index in range(7)]


def test_a_typo_within_the_word_similarity_threshold_matches(api_client):
    # word_similarity("brest", "chicken breast, raw") is 0.5: above our 0.45, below pg_trgm's default 0.6.
    PublicFoodFactory(name="Chicken breast, raw")
    PublicFoodFactory(name="Beef, ground, raw")
    assert names(api_client.get(FOODS, {"search": "chicken brest"})) == ["Chicken breast, raw"]


def test_a_renamed_custom_food_is_found_by_its_new_name(auth_client, user):
    food = CustomFoodFactory(user=user, name="Granola")
    assert auth_client.patch(reverse("foods-detail", args=[food.pk]), {"name": "Crème Brûlée"}).status_code == 200
    assert names(auth_client.get(FOODS, {"search": "creme brulee"})) == ["Crème Brûlée"]
    assert names(auth_client.get(FOODS, {"search": "granola"})) == []


def test_the_food_representation_is_the_model_serializers(user):
    from rest_framework import serializers

    from apps.nutrition.api.serializers import FoodSerializer
    from apps.nutrition.selectors import annotate_preferences, foods_visible_to, with_portions

    sparse = CustomFoodFactory(user=user, name="Sparse", brand="Acme", barcode="123", energy_kcal=12, fat_g=None)
    full = PublicFoodFactory(name="Full, raw")
    FoodPortionFactory(food=full, seq=2, description="1 cup", grams=240.0)
    FoodPortionFactory(food=full, seq=1, description="1 tbsp", grams=15.5)
    FoodPreferenceFactory(user=user, food=full, favorite=True, allergy=True)
    foods = with_portions(annotate_preferences(foods_visible_to(user), user)).filter(pk__in=[sparse.pk, full.pk])
    for food in foods:
        serializer = FoodSerializer()
        fast = serializer.to_representation(food)
        reference = serializers.ModelSerializer.to_representation(serializer, food)
        assert list(fast) == list(reference) == FoodSerializer.Meta.fields
        assert json.dumps(fast) == json.dumps(reference)  # same order of keys and same types (60.0, not 60)
    assert [portion["grams"] for portion in FoodSerializer(foods.get(pk=full.pk)).data["portions"]] == [15.5, 240.0]


@pytest.mark.parametrize("query", ["chicken", "cheese", "chiken brest"])
def test_pages_rank_as_the_whole_list_does_though_closeness_is_computed_for_the_first_rows_only(
    auth_client, user, query
):
    from django.core.management import call_command

    from apps.nutrition import selectors
    from apps.nutrition.models import Food

    call_command("load_foods", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for food in Food.objects.filter(search_name__contains="chicken, broiler")[:3]:
        FoodPreferenceFactory(user=user, food=food, favorite=True)
    typos = " " in query
    ranked = [food.name for food in selectors.search_foods(user=user, query=query, typos=typos)]
    assert len(ranked) > 40  # several classes, each longer than a page
    pages = []
    for page in (1, 2, 3, 4):
        with CaptureQueriesContext(connections["default"]) as queries:
            pages += names(auth_client.get(FOODS, {"search": query, "page_size": 7, "page": page}))
        assert "RANK() OVER" in queries.captured_queries[-1]["sql"]
    assert pages == ranked[:28]


@pytest.mark.parametrize("search", ["", "bean", "beann"])
@pytest.mark.parametrize("page", [str(2**31), str(2**63), "290971984851451797887258580890054295552"])
def test_a_page_number_beyond_any_count_is_404_not_a_database_error(auth_client, search, page):
    PublicFoodFactory(name="Bean, raw")
    response = auth_client.get(FOODS, {"search": search, "page": page, "page_size": 200})
    assert response.status_code == 404, response.content
