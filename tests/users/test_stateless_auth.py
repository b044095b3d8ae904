"""Access tokens authenticate without loading the user; what a lookup would catch still is."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from fithub.api.authentication import TokenUser
from tests.conftest import client_for
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = reverse("users-me")
DIARY = reverse("diary-list")


def test_a_read_scoped_to_the_user_does_not_load_the_user(auth_client, user, django_assert_num_queries):
    QuickAddEntryFactory.create_batch(3, user=user)
    with django_assert_num_queries(1):  # the page only
        response = auth_client.get(DIARY)
    assert len(response.json()["results"]) == 3
    assert response.wsgi_request.user.pk == user.pk
    assert isinstance(response.wsgi_request.user, TokenUser)


def test_the_first_field_read_loads_the_whole_user_once(user, django_assert_num_queries):
    lazy = TokenUser.from_token(user.pk)
    with django_assert_num_queries(1):
        assert (lazy.email, lazy.timezone, lazy.display_name) == (user.email, user.timezone, user.display_name)
    assert lazy == user


@pytest.mark.parametrize("path", [ME, DIARY])
def test_a_deleted_users_token_is_refused_everywhere(user, path):
    client = client_for(user)
    TokenUser.from_token(user.pk).delete()  # as DELETE /users/me/ does, with the request's user
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "user_not_found"


@pytest.mark.parametrize("path", [ME, DIARY])
def test_a_deactivated_users_token_is_refused_everywhere(user, path):
    client = client_for(user)
    user.is_active = False
    user.save()  # as the admin does
    response = client.get(path)
    assert response.status_code == 401


def test_tokens_issued_after_a_reactivation_work_again(user):
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    time.sleep(1.05)  # revocation has one-second resolution (the token's iat)
    assert client_for(user).get(DIARY).status_code == 200


def test_without_the_revocation_mark_a_deleted_user_still_gets_nothing(user):
    """The shared cache can lose the mark (a restart): the user row is then the backstop."""
    QuickAddEntryFactory(user=user)
    client = client_for(user)
    user.delete()
    cache.clear()
    me = client.get(ME)
    assert me.status_code == 401
    assert me.json()["errors"][0]["code"] == "user_not_found"
    assert client.get(DIARY).json()["results"] == []  # the rows went with the user
    entry = {"label": "x", "energy_kcal": 1, "meal": "lunch", "consumed_at": "2026-11-21T12:00:00Z"}
    write = client.post(DIARY, entry, format="json")
    assert write.status_code == 401, write.json()


def test_another_user_is_untouched_by_a_revocation(user):
    other = UserFactory()
    user.delete()
    assert client_for(other).get(ME).status_code == 200
