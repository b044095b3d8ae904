"""The pieces of food search that need no food table: singular and plural forms, and the
stored columns search ranks by (computed by the database on every write)."""

import pytest

from apps.nutrition.models import Food
from apps.nutrition.selectors import word_forms
from tests.nutrition.factories import CustomFoodFactory, PublicFoodFactory


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("egg", ("egg", "eggs")),
        ("eggs", ("eggs", "egg")),
        ("berries", ("berries", "berry")),
        ("strawberry", ("strawberry", "strawberries")),
        ("turkey", ("turkey", "turkeys")),
        ("peaches", ("peaches", "peach")),
        ("peach", ("peach", "peaches")),
        ("tomato", ("tomato", "tomatos", "tomatoes")),
        ("tomatoes", ("tomatoes", "tomato")),
        ("hummus", ("hummus", "hummuses")),
        ("swiss", ("swiss", "swisses")),
        ("oats", ("oats", "oat")),
        ("2%", ("2%",)),
        ("ab", ("ab",)),
    ],
)
def test_word_forms(word, forms):
    assert word_forms(word) == forms


@pytest.mark.django_db
def test_the_stored_search_columns_follow_the_name():
    food = PublicFoodFactory(name="Chicken, broilers or fryers, breast (skinless), raw", food_group="Poultry Products")
    food.refresh_from_db()
    assert food.search_words == " chicken | broilers or fryers | breast | skinless | raw "
    assert (food.search_processed, food.search_form) == (0, -1)
    breaded = PublicFoodFactory(name="Chicken breast tenders, breaded, uncooked")
    branded = CustomFoodFactory(name="Oat drink", brand="Oatly")
    menu = PublicFoodFactory(name="Fried chicken", food_group="Fast Foods")
    capitals = PublicFoodFactory(name="SILK Plain soy yogurt")
    processed = Food.objects.filter(pk__in=[breaded.pk, branded.pk, menu.pk, capitals.pk]).values_list(
        "search_processed", flat=True
    )
    assert list(processed) == [1, 1, 1, 1]
    for name, form in [
        ("Egg, whole, raw, fresh", -2),
        ("Beans, snap, green, canned", 1),
        ("Bread, whole-wheat, commercially prepared", 0),
        ("Bread, naan, whole wheat, commercially prepared, refrigerated", 0),  # a flour, as with the hyphen
        ("Cereals ready-to-eat, whole grain", 0),
        ("Yogurt, plain, whole milk", -1),
        ("Oranges, raw, all commercial varieties", -2),
    ]:
        assert Food.objects.get(pk=PublicFoodFactory(name=name).pk).search_form == form, name
    food.name = "Chicken, canned"
    food.save()
    food.refresh_from_db()
    assert (food.search_words, food.search_form) == (" chicken | canned ", 1)


@pytest.mark.django_db
def test_a_name_of_punctuation_is_stored_and_searched(auth_client):
    """Each mark grows into " | ": the stored words of a 200-character name outgrow it."""
    response = auth_client.post("/api/v1/foods/", {"name": "(" * 199 + "x"}, format="json")
    assert response.status_code == 201, response.content
    found = auth_client.get("/api/v1/foods/", {"search": "x"})
    assert found.status_code == 200
    assert [food["name"] for food in found.json()["results"]] == ["(" * 199 + "x"]
