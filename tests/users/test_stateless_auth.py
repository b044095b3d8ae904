"""Access tokens authenticate without loading the user; what a lookup would catch still is."""

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse

from apps.users import services
from apps.users.models import User
from fithub.api.authentication import TokenUser
from tests.conftest import client_for
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import PASSWORD, UserFactory

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
def test_a_deleted_users_tokens_are_refused_everywhere(user, path):
    """Every session ends with the account: another device's token too, on any view."""
    other_device = client_for(user)
    services.delete_account(user=TokenUser.from_token(user.pk), password=PASSWORD)  # as DELETE /users/me/ does
    response = other_device.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "session_ended"


def _admin_request():
    request = RequestFactory().post("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


@pytest.mark.parametrize("path", [ME, DIARY])
def test_a_user_deactivated_in_the_admin_is_refused_everywhere(user, path):
    client = client_for(user)
    user.is_active = False
    admin.site._registry[User].save_model(_admin_request(), user, form=None, change=True)
    response = client.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "session_ended"


def test_a_user_deleted_in_the_admin_is_refused_everywhere(user):
    client, other = client_for(user), UserFactory()
    model_admin = admin.site._registry[User]
    model_admin.delete_queryset(_admin_request(), User.objects.filter(pk=user.pk))
    assert client.get(DIARY).status_code == 401
    assert client_for(other).get(DIARY).status_code == 200


def test_tokens_issued_after_a_reactivation_work_at_once(user):
    """Revocation is per session, not by issue time (no second of iat resolution to wait out)."""
    services.deactivate_account(user=user)
    user.is_active = True
    user.save()
    assert client_for(user).get(DIARY).status_code == 200


def test_without_the_revocation_mark_a_deleted_user_still_gets_nothing(user):
    """The shared cache can lose the mark (a restart), and a deletion may bypass the service:
    the session's row went with the user, and a missing row is an ended session."""
    QuickAddEntryFactory(user=user)
    client = client_for(user)
    user.delete()
    cache.clear()
    me = client.get(ME)
    assert me.status_code == 401
    assert me.json()["errors"][0]["code"] == "session_ended"
    assert client.get(DIARY).status_code == 401  # before, an empty list: the rows went with the user
    entry = {"label": "x", "energy_kcal": 1, "meal": "lunch", "consumed_at": "2026-11-21T12:00:00Z"}
    write = client.post(DIARY, entry, format="json")
    assert write.status_code == 401, write.json()


def test_another_user_is_untouched_by_a_revocation(user):
    other = UserFactory()
    services.delete_account(user=user, password=PASSWORD)
    assert client_for(other).get(ME).status_code == 200
