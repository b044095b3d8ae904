"""Tokens of the release before sessions (no `sid` claim), minted as it minted them
(simplejwt's RefreshToken.for_user, recorded in the blacklist app's OutstandingToken), still
in the hands of clients during and after a rolling deploy."""

import uuid

import jwt
import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users import services
from fithub.models import Session
from tests.conftest import tokens_for
from tests.users.factories import PASSWORD

pytestmark = pytest.mark.django_db

REFRESH = reverse("auth-token-refresh")
ME = reverse("users-me")


def old_pair(user) -> tuple[str, str]:
    refresh = RefreshToken.for_user(user)
    return str(refresh), str(refresh.access_token)


def refresh(api_client, token):
    return api_client.post(REFRESH, {"refresh": token}, format="json")


def test_an_old_refresh_token_is_adopted_into_a_session_on_its_first_refresh(api_client, user):
    old_refresh, _ = old_pair(user)
    assert "sid" not in jwt.decode(old_refresh, options={"verify_signature": False})
    response = refresh(api_client, old_refresh)
    assert response.status_code == 200, response.json()
    pair = response.json()
    session = Session.objects.get(pk=uuid.UUID(jwt.decode(pair["access"], options={"verify_signature": False})["sid"]))
    assert (session.user_id, session.ended_at) == (user.pk, None)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.get(ME).status_code == 200
    # The session goes on as any other.
    assert refresh(api_client, pair["refresh"]).status_code == 200


def test_a_second_use_of_the_old_token_is_a_reuse_that_ends_the_adopted_session(api_client, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    old_refresh, _ = old_pair(user)
    pair = refresh(api_client, old_refresh).json()
    again = refresh(api_client, old_refresh)
    assert again.status_code == 401
    assert again.json()["type"] == "client_error"
    assert Session.objects.get(user=user).end_reason == Session.EndReason.REFRESH_REUSED
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_a_retry_within_the_grace_window_gets_the_same_pair(api_client, user):
    old_refresh, _ = old_pair(user)
    first = refresh(api_client, old_refresh).json()
    assert refresh(api_client, old_refresh).json() == first
    assert Session.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("event", ["password_change", "revoke_others", "deactivation", "deletion"])
def test_an_old_refresh_token_not_yet_adopted_is_refused_once_the_accounts_sessions_end(api_client, user, event):
    """Before: a pre-session refresh token outlived a password change and started a session."""
    old_refresh, _ = old_pair(user)
    if event == "password_change":
        services.change_password(user=user, old_password=PASSWORD, new_password="a brand new passphrase")
    elif event == "revoke_others":
        current = uuid.UUID(jwt.decode(tokens_for(user).access, options={"verify_signature": False})["sid"])
        services.end_sessions(user=user, reason=Session.EndReason.REVOKED, keep=current)
    elif event == "deactivation":
        services.deactivate_account(user=user)
    else:
        services.delete_account(user=user, password=PASSWORD)
    assert refresh(api_client, old_refresh).status_code == 401
    jti = jwt.decode(old_refresh, options={"verify_signature": False})["jti"]
    assert not Session.objects.filter(pk=services.legacy_session_id(jti)).exists()


def test_an_old_access_token_is_a_401_in_the_error_shape_not_a_500(api_client, user):
    """What the client does with any expired access token: it refreshes (adopting its old
    refresh token into a session) and goes on."""
    old_refresh, old_access = old_pair(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_access}")
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"
    api_client.credentials()
    pair = refresh(api_client, old_refresh).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.get(ME).status_code == 200
