import pytest
from django.urls import reverse

from apps.users.models import User
from tests.conftest import client_for
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = reverse("auth-register")
TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
ME = reverse("users-me")


def login(api_client, email, password=PASSWORD):
    return api_client.post(TOKEN, {"email": email, "password": password}, format="json")


def test_register_creates_user_without_echoing_password(api_client):
    response = api_client.post(
        REGISTER, {"email": "Ada@Example.com", "password": "correct horse battery", "display_name": "Ada"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["display_name"] == "Ada"
    assert "password" not in body
    assert User.objects.get(email="ada@example.com").check_password("correct horse battery")


def test_register_rejects_duplicate_email_in_any_case(api_client):
    UserFactory(email="ada@example.com")
    response = api_client.post(REGISTER, {"email": "ADA@example.com", "password": "correct horse battery"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
def test_register_applies_django_password_validators(api_client, password):
    response = api_client.post(REGISTER, {"email": "bob@example.com", "password": password})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert {error["attr"] for error in body["errors"]} == {"password"}
    assert not User.objects.exists()


def test_login_is_case_insensitive_and_returns_a_token_pair(api_client, user):
    response = login(api_client, user.email.upper())
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.status_code == 200
    assert me.json()["email"] == user.email


def test_production_hashes_with_argon2_and_upgrades_older_hashes_at_login(api_client, settings):
    """The test suite hashes with MD5 for speed; production's list puts Argon2 first. A user
    whose password was hashed with PBKDF2 logs in as before and is rehashed with Argon2."""
    from django.contrib.auth.hashers import identify_hasher, make_password

    from fithub.settings import PREFERRED_HASHERS

    settings.PASSWORD_HASHERS = PREFERRED_HASHERS.split(",")
    assert identify_hasher(make_password("correct horse battery")).algorithm == "argon2"
    user = UserFactory()
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    assert login(api_client, user.email).status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert login(api_client, user.email).status_code == 200
    assert login(api_client, user.email, "wrong-password").status_code == 401


def test_login_with_a_wrong_password_is_401(api_client, user):
    response = login(api_client, user.email, "wrong-password")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "no_active_account"


def test_refresh_rotates_the_refresh_token(api_client, user):
    first = login(api_client, user.email).json()
    rotated = api_client.post(REFRESH, {"refresh": first["refresh"]})
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != first["refresh"]

    again = api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]})
    assert again.status_code == 200
    # Sending the first one again: tests/users/test_sessions.py (the grace window, then reuse).


def test_logout_ends_the_session_refresh_and_access_tokens_alike(api_client, user):
    tokens = login(api_client, user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 204
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    # The access token went with its session: logging out twice is refused, not a silent success.
    again = api_client.post(LOGOUT, {"refresh": tokens["refresh"]})
    assert again.status_code == 401
    assert again.json()["errors"][0]["code"] == "session_ended"


def test_logout_needs_no_body(api_client, user):
    tokens = login(api_client, user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(LOGOUT).status_code == 204
    assert api_client.get(ME).status_code == 401


def test_logout_refuses_a_refresh_token_of_another_session(api_client, user):
    other = UserFactory()
    their_tokens = login(api_client, other.email).json()
    my_other_session = login(api_client, user.email).json()
    me = client_for(user)
    for refresh in (their_tokens["refresh"], my_other_session["refresh"]):
        response = me.post(LOGOUT, {"refresh": refresh})
        assert response.status_code == 400
        assert response.json()["errors"][0] == {
            "code": "token_not_valid",
            "detail": "Token is invalid or expired",
            "attr": "refresh",
        }
    assert api_client.post(REFRESH, {"refresh": their_tokens["refresh"]}).status_code == 200
    assert api_client.post(REFRESH, {"refresh": my_other_session["refresh"]}).status_code == 200


def test_logout_needs_authentication(api_client):
    assert api_client.post(LOGOUT, {"refresh": "x"}).status_code == 401


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-jwt", "Token abc", "Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiMSJ9."],
)
def test_protected_endpoints_answer_401_in_the_error_shape(api_client, header):
    if header:
        api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(ME)
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] in {"not_authenticated", "bad_authorization_header", "token_not_valid"}
    assert len(body["errors"]) == 1


def test_login_is_throttled_per_account_across_ips(api_client, user, throttle_rates):
    throttle_rates(login_account="3/min", login_ip="1000/min")
    for n in range(3):
        response = api_client.post(TOKEN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{n + 1}")
        assert response.status_code == 401
    blocked = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["code"] == "throttled"
    assert int(blocked["Retry-After"]) > 0
    # Another account from the same IP is not blocked.
    assert login(api_client, UserFactory().email).status_code == 200


def test_login_is_throttled_per_ip(api_client, throttle_rates):
    throttle_rates(login_ip="2/min", login_account="1000/min")
    for n in range(2):
        assert login(api_client, f"nobody{n}@example.com", "x").status_code == 401
    assert login(api_client, "someone-else@example.com", "x").status_code == 429
