import pytest
from django.urls import reverse

from apps.nutrition.models import FoodPreference
from tests.nutrition.factories import CustomFoodFactory, FoodPreferenceFactory, PublicFoodFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
PREFERENCES = reverse("food-preferences-list")


def detail(preference_id) -> str:
    return reverse("food-preferences-detail", args=[preference_id])


def test_set_update_replace_and_delete_a_preference(auth_client, user):
    food = PublicFoodFactory()
    created = auth_client.post(PREFERENCES, {"food": str(food.pk), "favorite": True}, format="json")
    assert created.status_code == 201, created.content
    again = auth_client.post(PREFERENCES, {"food": str(food.pk), "allergy": True}, format="json")
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["favorite"], again.json()["allergy"]) == (created.json()["id"], True, True)
    assert FoodPreference.objects.filter(user=user).count() == 1

    preference_id = created.json()["id"]
    replaced = auth_client.put(
        detail(preference_id), {"food": str(food.pk), "favorite": False, "dislike": True}, format="json"
    )
    assert replaced.status_code == 200, replaced.content
    assert (replaced.json()["favorite"], replaced.json()["dislike"], replaced.json()["allergy"]) == (False, True, False)
    assert auth_client.patch(detail(preference_id), {"allergy": True}, format="json").json()["allergy"] is True
    assert [p["id"] for p in auth_client.get(PREFERENCES).json()["results"]] == [preference_id]
    assert auth_client.delete(detail(preference_id)).status_code == 204
    assert not FoodPreference.objects.exists()


def test_preference_validation_and_isolation(auth_client, user):
    food = PublicFoodFactory()
    assert auth_client.post(PREFERENCES, {"food": str(food.pk), "favorite": True, "dislike": True}).status_code == 400
    assert auth_client.post(PREFERENCES, {"food": str(CustomFoodFactory().pk), "favorite": True}).status_code == 400
    assert auth_client.post(PREFERENCES, {"food": "nope"}).status_code == 400
    theirs = FoodPreferenceFactory(user=UserFactory())
    assert auth_client.get(detail(theirs.pk)).status_code == 404
    assert auth_client.patch(detail(theirs.pk), {"favorite": True}, format="json").status_code == 404
    assert auth_client.delete(detail(theirs.pk)).status_code == 404
    mine = FoodPreferenceFactory(user=user, food=food)
    other = FoodPreferenceFactory(user=user)
    # Moving a preference onto a food that already has one is refused, not a crash.
    assert auth_client.patch(detail(other.pk), {"food": str(mine.food_id)}, format="json").status_code == 400


@pytest.mark.parametrize("count", [3, 40])
def test_preference_list_query_count_is_constant(auth_client, user, django_assert_max_num_queries, count):
    FoodPreferenceFactory.create_batch(count, user=user, favorite=True)
    with django_assert_max_num_queries(3):  # user, count, page with foods
        response = auth_client.get(PREFERENCES, {"page_size": 200})
    assert len(response.json()["results"]) == count
