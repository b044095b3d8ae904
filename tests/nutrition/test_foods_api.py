import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.nutrition.models import Food
from tests.conftest import client_for
from tests.nutrition.factories import CustomFoodFactory, FoodPreferenceFactory, PublicFoodFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
FOODS = reverse("foods-list")


def detail(food) -> str:
    return reverse("foods-detail", args=[food.pk])


@pytest.fixture
def usda(db):
    call_command("load_foods", stdout=open("/dev/null", "w"))  # noqa: SIM115


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [food["name"] for food in response.json()["results"]]


def test_typo_tolerant_search_finds_raw_chicken_breast(api_client, usda):
    top5 = names(api_client.get(FOODS, {"search": "chiken brest", "page_size": 5}))
    assert any("chicken" in name.lower() and "breast" in name.lower() and "raw" in name.lower() for name in top5)
    assert names(api_client.get(FOODS, {"search": "brocoli", "page_size": 1})) == ["Broccoli, raw"]


@pytest.mark.parametrize("query", ["chiken brest", "bean"])
def test_search_query_count_is_constant_with_and_without_the_typo_fallback(
    api_client, django_assert_max_num_queries, query
):
    for index in range(30):
        PublicFoodFactory(name=f"Chicken breast {index}, raw" if index % 2 else f"Bean {index}, raw")
    # the plain-match probe, the page with its count and portions (no user: anonymous)
    with django_assert_max_num_queries(2):
        response = api_client.get(FOODS, {"search": query, "page_size": 10})
    assert len(response.json()["results"]) == 10


def test_exact_and_prefix_matches_come_first(api_client, usda):
    results = names(api_client.get(FOODS, {"search": "butter, salted"}))
    assert results[0] == "Butter, salted"
    prefix = names(api_client.get(FOODS, {"search": "Broccoli"}))
    assert all(name.lower().startswith("broccoli") for name in prefix[:5])


@pytest.mark.parametrize(
    ("query", "first", "later"),
    [
        # The food is named in the first parts of an SR28 name; a later part qualifies it.
        ("coffee", "Beverages, coffee, brewed, prepared with tap water", "Cake, liqueur, coffee"),
        ("white bread", "Bread, white, commercially prepared, toasted", "Bread, pita, white"),
        ("bread white", "Bread, white, commercially prepared, toasted", "Bread, pita, white"),
    ],
)
def test_the_words_in_the_earliest_parts_of_a_name_rank_first(api_client, query, first, later):
    """Matching as well otherwise, the name whose parts hold every word soonest comes first,
    even when the other is shorter and closer as trigrams go."""
    PublicFoodFactory(name=later)
    PublicFoodFactory(name=first)
    assert names(api_client.get(FOODS, {"search": query})) == [first, later]


def test_a_typo_finds_the_name_in_the_other_number(api_client):
    """ "avacado" is within the typo similarity of "avocados" only as "avacados": the typo
    tolerance compares both numbers, as plain matching does."""
    PublicFoodFactory(name="Avocados, raw, all commercial varieties")
    PublicFoodFactory(name="Oil, avocado")
    assert names(api_client.get(FOODS, {"search": "avacado"})) == [
        "Avocados, raw, all commercial varieties",
        "Oil, avocado",
    ]


def test_accents_are_ignored(api_client):
    PublicFoodFactory(name="Crème fraîche")
    assert names(api_client.get(FOODS, {"search": "creme fraiche"})) == ["Crème fraîche"]


def test_search_ranks_favorites_first_and_flags_allergies(auth_client, user):
    plain = PublicFoodFactory(name="Oats, raw")
    favorite = PublicFoodFactory(name="Oats, rolled, toasted with honey")
    allergen = PublicFoodFactory(name="Oats with peanuts")
    FoodPreferenceFactory(user=user, food=favorite, favorite=True)
    FoodPreferenceFactory(user=user, food=allergen, allergy=True)
    FoodPreferenceFactory(food=plain, favorite=True)  # someone else's favorite changes nothing
    results = auth_client.get(FOODS, {"search": "oats"}).json()["results"]
    assert [food["name"] for food in results] == ["Oats, rolled, toasted with honey", "Oats, raw", "Oats with peanuts"]
    flags = {food["name"]: (food["is_favorite"], food["is_allergen"]) for food in results}
    assert flags == {
        "Oats, rolled, toasted with honey": (True, False),
        "Oats, raw": (False, False),
        "Oats with peanuts": (False, True),
    }


def test_barcode_lookup(auth_client, user):
    food = CustomFoodFactory(user=user, barcode="4006381333931")
    PublicFoodFactory(barcode="4006381333948")
    results = auth_client.get(FOODS, {"barcode": "4006381333931"}).json()["results"]
    assert [item["id"] for item in results] == [str(food.pk)]
    assert auth_client.get(FOODS, {"barcode": "0000000000000"}).json()["results"] == []


def test_anonymous_search_sees_public_foods_only(api_client):
    public = PublicFoodFactory(name="Lentils, raw")
    CustomFoodFactory(name="Lentils, my recipe")
    results = api_client.get(FOODS, {"search": "lentils"}).json()["results"]
    assert [item["id"] for item in results] == [str(public.pk)]
    assert api_client.post(FOODS, {"name": "x"}).status_code == 401


def test_custom_foods_are_private(auth_client, user):
    mine = CustomFoodFactory(user=user, name="Secret sauce A")
    theirs = CustomFoodFactory(name="Secret sauce B")
    assert names(auth_client.get(FOODS, {"search": "secret sauce"})) == ["Secret sauce A"]
    assert auth_client.get(detail(mine)).status_code == 200
    for response in (
        auth_client.get(detail(theirs)),
        auth_client.patch(detail(theirs), {"name": "mine now"}),
        auth_client.delete(detail(theirs)),
    ):
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Secret sauce B"


def test_public_foods_cannot_be_changed_or_deleted(auth_client):
    food = PublicFoodFactory(name="Apples, raw")
    assert auth_client.get(detail(food)).status_code == 200
    assert auth_client.patch(detail(food), {"name": "Pears"}).status_code == 403
    assert auth_client.delete(detail(food)).status_code == 403
    food.refresh_from_db()
    assert food.name == "Apples, raw"


def test_custom_food_crud(auth_client, user):
    response = auth_client.post(
        FOODS,
        {
            "name": "Granola",
            "barcode": "123456",
            "energy_kcal": 471,
            "protein_g": 10.2,
            "portions": [{"description": "1 bowl", "grams": 60}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["source"], body["is_public"], body["energy_kcal"], body["fat_g"]) == ("user", False, 471, None)
    assert [(p["description"], p["grams"]) for p in body["portions"]] == [("1 bowl", 60)]
    food = Food.objects.get(pk=body["id"])
    assert food.user == user

    response = auth_client.patch(detail(food), {"name": "Granola 2", "portions": []})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["portions"]) == ("Granola 2", [])
    assert auth_client.delete(detail(food)).status_code == 204
    assert not Food.objects.filter(pk=food.pk).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x", "energy_kcal": -1},
        {"name": "x", "energy_kcal": "NaN"},
        {"name": "x", "energy_kcal": "1e999"},
        {"name": "x", "energy_kcal": 1e12},
        {"name": "x", "protein_g": "lots"},
        {"name": ""},
        {"name": "x", "barcode": "abc"},
        {"name": "x", "portions": [{"description": "1 cup", "grams": 0}]},
        {"name": "x", "portions": "nope"},
    ],
)
def test_custom_food_validation(auth_client, payload):
    response = auth_client.post(FOODS, payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"


def test_huge_json_numbers_are_refused(auth_client):
    body = '{"name": "x", "energy_kcal": 1e999}'
    response = auth_client.generic("POST", FOODS, body, content_type="application/json")
    assert response.status_code == 400


def test_a_client_chosen_id_is_idempotent(auth_client):
    food_id = "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d"
    first = auth_client.post(FOODS, {"id": food_id, "name": "Offline food"})
    again = auth_client.post(FOODS, {"id": food_id, "name": "Offline food"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert Food.objects.filter(pk=food_id).count() == 1
    assert client_for(UserFactory()).post(FOODS, {"id": food_id, "name": "x"}).status_code == 409


def test_unknown_and_malformed_ids_are_404(auth_client):
    assert auth_client.get(reverse("foods-detail", args=["not-a-uuid"])).status_code == 404
    assert auth_client.get(reverse("foods-detail", args=["0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d"])).status_code == 404


@pytest.mark.parametrize("page_size", [5, 50])
def test_food_search_query_count_is_constant(auth_client, user, django_assert_max_num_queries, page_size):
    for index in range(60):
        food = PublicFoodFactory(name=f"Bean {index}, raw")
        food.portions.create(seq=1, description="1 cup", grams=100)
        FoodPreferenceFactory(user=user, food=food, favorite=index % 2 == 0)
    # user (auth), the plain-match probe, the page with its count and portions
    with django_assert_max_num_queries(3):
        response = auth_client.get(FOODS, {"search": "bean", "page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_a_disliked_food_ranks_below_every_food_that_is_not_disliked(auth_client, user):
    exact = PublicFoodFactory(name="Oats")
    PublicFoodFactory(name="Oats, raw")
    word = PublicFoodFactory(name="Rolled oats")
    raw = PublicFoodFactory(name="Oats, steel cut, raw")
    FoodPreferenceFactory(user=user, food=exact, dislike=True)
    FoodPreferenceFactory(user=user, food=raw, dislike=True)
    FoodPreferenceFactory(food=word, dislike=True)  # someone else's dislike changes nothing
    ranked = ["Oats, raw", "Rolled oats", "Oats", "Oats, steel cut, raw"]
    assert names(auth_client.get(FOODS, {"search": "oats"})) == ranked
    pages = [names(auth_client.get(FOODS, {"search": "oats", "page_size": 1, "page": page})) for page in range(1, 5)]
    assert [name for page in pages for name in page] == ranked
    listed = auth_client.get(FOODS).json()["results"]
    assert [food["name"] for food in listed] == ["Oats, raw", "Rolled oats", "Oats", "Oats, steel cut, raw"]
    assert [food["is_disliked"] for food in listed] == [False, False, True, True]
    # Typo tolerance ranks them the same way.
    assert set(names(auth_client.get(FOODS, {"search": "oatts"}))[-2:]) == {"Oats", "Oats, steel cut, raw"}
