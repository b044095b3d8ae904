import datetime as dt

import pytest
from django.urls import reverse

from apps.users.models import User
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = reverse("users-me")
PASSWORD_URL = reverse("users-me-password")
TOKEN = reverse("auth-token")


def test_get_profile(auth_client, user):
    body = auth_client.get(ME).json()
    assert body["id"] == str(user.id)
    assert body["email"] == user.email
    assert body["timezone"] == "UTC"
    assert body["unit_system"] == "metric"


def test_patch_profile_updates_whitelisted_fields(auth_client, user):
    response = auth_client.patch(
        ME,
        {
            "display_name": "Ada L.",
            "timezone": "America/Los_Angeles",
            "height_cm": 168.5,
            "sex": "female",
            "birth_date": "1990-04-12",
            "activity_level": "moderate",
        },
    )
    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.timezone == "America/Los_Angeles"
    assert float(user.height_cm) == 168.5
    assert response.json()["age"] == user.age >= 36


def test_email_cannot_be_changed_through_the_profile(auth_client, user):
    auth_client.patch(ME, {"email": "evil@example.com"})
    user.refresh_from_db()
    assert user.email != "evil@example.com"


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"height_cm": -170}, "height_cm"),
        ({"height_cm": 1e300}, "height_cm"),
        ({"height_cm": "tall"}, "height_cm"),
        ({"sex": "robot"}, "sex"),
        ({"activity_level": "couch"}, "activity_level"),
        ({"birth_date": "1990-13-45"}, "birth_date"),
        ({"birth_date": (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()}, "birth_date"),
        ({"unit_system": "furlongs"}, "unit_system"),
    ],
)
def test_patch_profile_validation_errors_name_the_field(auth_client, user, payload, attr):
    response = auth_client.patch(ME, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert [error["attr"] for error in body["errors"]] == [attr]
    assert all(error["code"] and error["detail"] for error in body["errors"])


def test_change_password(auth_client, api_client, user):
    response = auth_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": "a brand new passphrase"})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}).status_code == 401
    assert api_client.post(TOKEN, {"email": user.email, "password": "a brand new passphrase"}).status_code == 200


def test_change_password_needs_the_current_one_and_a_valid_new_one(auth_client, user):
    wrong_old = auth_client.post(PASSWORD_URL, {"old_password": "nope", "new_password": "a brand new passphrase"})
    assert wrong_old.status_code == 400
    assert wrong_old.json()["errors"][0]["attr"] == "old_password"
    weak_new = auth_client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": "123"})
    assert weak_new.status_code == 400
    assert {error["attr"] for error in weak_new.json()["errors"]} == {"new_password"}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_delete_account_needs_the_password(auth_client, user):
    response = auth_client.delete(ME, {"password": "wrong"})
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()
    assert auth_client.delete(ME, {}).status_code == 400


def test_delete_account_removes_the_user_and_revokes_their_tokens(auth_client, api_client, user):
    refresh = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}).json()["refresh"]
    other = UserFactory()
    assert auth_client.delete(ME, {"password": PASSWORD}).status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert User.objects.filter(pk=other.pk).exists()
    # Neither the access token nor a refresh token of a deleted account works.
    assert auth_client.get(ME).status_code == 401
    assert api_client.post(reverse("auth-token-refresh"), {"refresh": refresh}).status_code == 401
