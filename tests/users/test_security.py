"""Attacks on tokens and logins, the general throttles and the audit log."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken

from apps.users import services
from apps.users.models import SecurityEvent
from fithub.api.tokens import pair_for
from fithub.models import Session
from tests.conftest import tokens_for
from tests.users.factories import PASSWORD, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = reverse("users-me")
TOKEN = reverse("auth-token")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def get_me(api_client, token: str):
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def access_token(user) -> AccessToken:
    """An access token of a live session of the user's, with claims a test may change."""
    token = AccessToken.for_user(user)
    token["sid"] = str(SessionFactory(user=user).pk)
    return token


def test_a_valid_token_works(api_client, user):
    assert get_me(api_client, str(access_token(user))).status_code == 200


def test_a_token_of_no_session_is_refused(api_client, user):
    """Signed by us, but from before sessions existed (or minted without one)."""
    response = get_me(api_client, str(AccessToken.for_user(user)))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_an_expired_token_is_refused(api_client, user):
    token = access_token(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    response = get_me(api_client, str(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_a_remembered_token_is_refused_once_it_expires(api_client, user, monkeypatch):
    """Verified tokens are remembered per process (fithub.api.authentication), never past their exp."""
    import time

    from fithub.api import authentication

    token = access_token(user)
    token.set_exp(lifetime=timedelta(seconds=30))
    assert get_me(api_client, str(token)).status_code == 200
    assert str(token).encode() in authentication._verified
    assert get_me(api_client, str(token)).status_code == 200  # from memory
    later = time.time() + 31
    monkeypatch.setattr(authentication.time, "time", lambda: later)
    # simplejwt's own expiry check reads the clock through its own helper: move it too.
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: _utc(later))
    response = get_me(api_client, str(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_remembered_tokens_are_bounded(api_client, user, monkeypatch):
    from fithub.api import authentication

    monkeypatch.setattr(authentication, "VERIFIED_TOKENS_MAX", 3)
    authentication._verified.clear()
    for _ in range(7):
        token = access_token(user)  # a new jti each time
        assert get_me(api_client, str(token)).status_code == 200
        assert len(authentication._verified) <= 3


def _utc(timestamp: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)


def test_a_tampered_token_is_refused(api_client, user):
    other = UserFactory()
    header, payload, signature = str(access_token(user)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(other.pk)  # claim to be someone else, keep the old signature
    assert get_me(api_client, f"{header}.{_b64(claims)}.{signature}").status_code == 401


def test_an_unsigned_alg_none_token_is_refused(api_client, user):
    claims = dict(access_token(user).payload)
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert get_me(api_client, token).status_code == 401


def test_a_token_signed_with_another_key_or_algorithm_is_refused(api_client, user):
    claims = dict(access_token(user).payload)
    assert get_me(api_client, jwt.encode(claims, "not-our-key-but-long-enough-for-hs256!", "HS256")).status_code == 401
    assert get_me(api_client, jwt.encode(claims, settings.SECRET_KEY, "HS512")).status_code == 401


def test_a_refresh_token_is_not_an_access_token(api_client, user):
    assert get_me(api_client, tokens_for(user).refresh).status_code == 401


def test_an_access_token_is_not_a_refresh_token(api_client, user):
    response = api_client.post(reverse("auth-token-refresh"), {"refresh": tokens_for(user).access})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_the_refresh_token_of_an_ended_session_is_refused(api_client, user):
    session = SessionFactory(user=user)
    refresh = pair_for(session).refresh
    services.end_session(user=user, session_id=session.pk, reason=Session.EndReason.LOGOUT)
    response = api_client.post(reverse("auth-token-refresh"), {"refresh": refresh})
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


def test_requests_are_throttled_per_user(user, auth_client, throttle_rates):
    throttle_rates(user="3/min")
    assert [auth_client.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]
    throttled = auth_client.get(ME)
    assert int(throttled["Retry-After"]) > 0
    # Another user is not affected.
    from tests.conftest import client_for

    assert client_for(UserFactory()).get(ME).status_code == 200


def test_requests_are_throttled_per_ip_whoever_sends_them(throttle_rates):
    from tests.conftest import client_for

    throttle_rates(ip="3/min")
    statuses = [client_for(UserFactory()).get(ME, REMOTE_ADDR="192.0.2.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client_for(UserFactory()).get(ME, REMOTE_ADDR="192.0.2.8").status_code == 200


def test_forged_forwarded_for_does_not_escape_the_ip_throttle(throttle_rates):
    from tests.conftest import client_for

    throttle_rates(ip="2/min")
    client = client_for(UserFactory())
    statuses = [
        client.get(ME, REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_the_audit_log_records_logins_logout_password_change_and_deletion(api_client, user):
    headers = {"HTTP_USER_AGENT": "FitHubTest/1.0", "REMOTE_ADDR": "198.51.100.4"}
    api_client.post(TOKEN, {"email": user.email, "password": "wrong"}, **headers)
    tokens = api_client.post(TOKEN, {"email": user.email.upper(), "password": PASSWORD}, **headers).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.post(reverse("auth-logout"), {"refresh": tokens["refresh"]}, **headers).status_code == 204
    tokens = api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}, **headers).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    changed = api_client.post(
        reverse("users-me-password"), {"old_password": PASSWORD, "new_password": "another long passphrase"}, **headers
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {changed.json()['access']}")
    assert api_client.delete(ME, {"password": "another long passphrase"}, **headers).status_code == 204

    events = list(SecurityEvent.objects.order_by("id").values_list("kind", "email", "ip", "user_agent"))
    kinds = [event[0] for event in events]
    assert kinds == [
        "login_failed",
        "login_succeeded",
        "logout",
        "login_succeeded",
        "password_changed",
        "account_deleted",
    ]
    assert {event[1] for event in events} == {user.email}
    assert {event[2] for event in events} == {"198.51.100.4"}
    assert {event[3] for event in events} == {"FitHubTest/1.0"}
    # The events outlive the account (user set to null, email kept).
    assert SecurityEvent.objects.filter(email=user.email, user__isnull=True).count() == 6


def test_a_forged_client_address_is_not_stored(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_client.post(TOKEN, {"email": user.email, "password": "wrong"}, HTTP_X_FORWARDED_FOR="<script>")
    assert SecurityEvent.objects.get().ip is None


def test_the_audit_log_is_read_only_in_the_admin(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    SecurityEvent.objects.create(kind="login_failed", email="x@example.com", ip="203.0.113.1")
    client.force_login(admin)
    page = client.get(reverse("admin:users_securityevent_changelist"))
    assert page.status_code == 200
    assert b"x@example.com" in page.content
    assert client.get(reverse("admin:users_securityevent_add")).status_code == 403
