"""Sessions: one per refresh-token family, named by the `sid` claim of its tokens.

A password change ends every session but gives the caller a new one; the sessions list ends
one or all others; ending a session refuses its access tokens as well as its refresh token,
whether the shared cache remembers it or not; a reused refresh token ends its family, but a
retry within the grace window gets the same pair again.
"""

import threading
import time
import uuid

import jwt
import pytest
import redis
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users import services
from apps.users.models import SecurityEvent
from fithub.api import authentication
from fithub.api.tokens import SessionRefreshToken
from fithub.models import Session
from fithub.ops import shared_cache
from tests.fithub.test_routing import paused_replica, replica  # noqa: F401 - fixtures
from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = reverse("auth-token")
REFRESH = reverse("auth-token-refresh")
LOGOUT = reverse("auth-logout")
SESSIONS = reverse("auth-session-list")
REVOKE_OTHERS = reverse("auth-session-revoke-others")
PASSWORD_URL = reverse("users-me-password")
DIARY = reverse("diary-list")
NEW_PASSWORD = "a brand new passphrase"


def session_url(session_id) -> str:
    return reverse("auth-session-detail", kwargs={"pk": session_id})


def log_in(email, password=PASSWORD, *, agent="FitHubTest/1.0", ip="198.51.100.7") -> dict:
    response = Client().post(
        TOKEN,
        {"email": email, "password": password},
        content_type="application/json",
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(token: str, **headers):
    return Client().post(REFRESH, {"refresh": token}, content_type="application/json", **headers)


def get(path: str, access: str, **params):
    return Client().get(path, params, HTTP_AUTHORIZATION=f"Bearer {access}")


def post(path: str, access: str, data=None):
    return Client().post(path, data or {}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {access}")


def sid(token: str) -> str:
    """The session a token belongs to (its `sid` claim)."""
    return jwt.decode(token, options={"verify_signature": False})["sid"]


def refused(access: str) -> bool:
    response = get(DIARY, access)
    if response.status_code == 200:
        return False
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "session_ended"
    return True


# --- Password change -------------------------------------------------------------------


def test_a_password_change_ends_every_session_and_the_caller_goes_on_with_a_new_pair(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    changed = post(PASSWORD_URL, phone["access"], {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    pair = changed.json()
    # Every token issued before is refused, the caller's old ones included.
    for tokens in (phone, laptop):
        assert refused(tokens["access"])
        assert refresh(tokens["refresh"]).status_code == 401
    # The pair answered was issued in the same second as the ones refused: it works.
    assert get(DIARY, pair["access"]).status_code == 200
    assert sid(pair["access"]) not in {sid(phone["access"]), sid(laptop["access"])}
    assert refresh(pair["refresh"]).status_code == 200
    assert list(Session.objects.filter(user=user, ended_at__isnull=True).values_list("pk", flat=True)) == [
        uuid.UUID(sid(pair["access"]))
    ]
    assert set(Session.objects.filter(user=user).exclude(ended_at=None).values_list("end_reason", flat=True)) == {
        "password_changed"
    }


def test_a_refused_password_change_ends_nothing(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    wrong = post(PASSWORD_URL, phone["access"], {"old_password": "not it", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert not refused(phone["access"])
    assert not refused(laptop["access"])


# --- Revocation outlives the cache ------------------------------------------------------


def test_a_cache_restart_does_not_bring_an_ended_session_back(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    assert post(LOGOUT, phone["access"]).status_code == 204
    cache.clear()  # a restart: the ended mark is gone
    assert refused(phone["access"])
    assert not refused(laptop["access"])
    assert refresh(phone["refresh"]).status_code == 401


def test_a_session_the_cache_does_not_know_costs_one_query_by_primary_key(user, django_assert_num_queries):
    tokens = log_in(user.email)
    with django_assert_num_queries(1):  # the page only: the login told the cache
        assert get(DIARY, tokens["access"]).status_code == 200
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert get(DIARY, tokens["access"]).status_code == 200
    assert len(queries) == 2
    lookup = queries[0]["sql"]
    assert 'FROM "fithub_session"' in lookup
    assert '"fithub_session"."id" =' in lookup
    with django_assert_num_queries(1):  # remembered alive again
        assert get(DIARY, tokens["access"]).status_code == 200


class _DownCache:
    """The cache client when Redis cannot be reached: every call raises."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise redis.ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

        return fail


def _authenticate(access: str):
    request = Request(APIRequestFactory().get(DIARY, HTTP_AUTHORIZATION=f"Bearer {access}"))
    return authentication.JWTAuthentication().authenticate(request)


def test_with_the_cache_down_the_database_decides(user, monkeypatch, settings):
    """Neither a 500 nor an ended session let through; reads go to the primary (no pin is known)."""
    live, ended = log_in(user.email), log_in(user.email)
    services.end_session(user=user, session_id=uuid.UUID(sid(ended["access"])), reason="logout")
    monkeypatch.setattr(shared_cache, "_backend", _DownCache)
    settings.DATABASE_REPLICAS = ["replica_0"]
    from fithub.db.router import reads_pinned_to_primary, routing_scope

    with routing_scope(primary=False):
        authenticated_user, _ = _authenticate(live["access"])
        assert authenticated_user.pk == user.pk
        assert reads_pinned_to_primary()
    with pytest.raises(AuthenticationFailed) as failure:
        _authenticate(ended["access"])
    assert failure.value.detail["code"] == "session_ended"
    # Ending a session while the cache is down still ends it (the database has it).
    services.end_session(user=user, session_id=uuid.UUID(sid(live["access"])), reason="logout")
    with pytest.raises(AuthenticationFailed):
        _authenticate(live["access"])


def test_an_ended_mark_is_never_overwritten_by_a_late_alive_one(user):
    """A request that read the session alive just before it ended must not cache it alive."""
    tokens = log_in(user.email)
    session_id = uuid.UUID(sid(tokens["access"]))
    cache.clear()
    services.end_session(user=user, session_id=session_id, reason="logout")
    authentication.remember_session_alive(session_id)  # the late request's write
    assert refused(tokens["access"])


# --- The sessions list -------------------------------------------------------------------


def test_the_sessions_list_shows_each_live_session_and_which_is_current(user):
    phone = log_in(user.email, agent="FitHub/2.3 (iPhone)", ip="203.0.113.24")
    laptop = log_in(user.email, agent="Firefox/133", ip="198.51.100.9")
    gone = log_in(user.email)
    post(LOGOUT, gone["access"])
    log_in(UserFactory().email)  # someone else's
    response = get(SESSIONS, laptop["access"])
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_id = {item["id"]: item for item in body["results"]}
    assert set(by_id) == {sid(phone["access"]), sid(laptop["access"])}
    assert by_id[sid(laptop["access"])] | {"created_at": None, "last_used_at": None} == {
        "id": sid(laptop["access"]),
        "created_at": None,
        "last_used_at": None,
        "ip": "198.51.100.9",
        "user_agent": "Firefox/133",
        "current": True,
    }
    assert by_id[sid(phone["access"])]["current"] is False
    assert [item["id"] for item in body["results"]] == [sid(laptop["access"]), sid(phone["access"])]


def test_a_refresh_updates_last_used_ip_and_user_agent(user):
    tokens = log_in(user.email, agent="FitHub/2.2", ip="203.0.113.1")
    before = Session.objects.get(pk=sid(tokens["access"]))
    pair = refresh(tokens["refresh"], HTTP_USER_AGENT="FitHub/2.3", REMOTE_ADDR="203.0.113.2").json()
    assert sid(pair["access"]) == sid(pair["refresh"]) == str(before.pk)  # the same session goes on
    item = get(SESSIONS, pair["access"]).json()["results"][0]
    assert (item["id"], item["ip"], item["user_agent"]) == (str(before.pk), "203.0.113.2", "FitHub/2.3")
    after = Session.objects.get(pk=before.pk)
    assert after.last_used_at > before.last_used_at
    assert after.created_at == before.created_at


def test_ending_a_session_from_the_list_refuses_its_access_and_refresh_tokens(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    response = Client().delete(session_url(sid(phone["access"])), HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    assert response.status_code == 204
    assert refused(phone["access"])
    assert refresh(phone["refresh"]).status_code == 401
    assert not refused(laptop["access"])
    # Ended: no longer listed, and ending it again is a 404.
    assert [item["id"] for item in get(SESSIONS, laptop["access"]).json()["results"]] == [sid(laptop["access"])]
    again = Client().delete(session_url(sid(phone["access"])), HTTP_AUTHORIZATION=f"Bearer {laptop['access']}")
    assert again.status_code == 404


def test_revoke_others_ends_all_but_the_current_session(user):
    current, *others = (log_in(user.email) for _ in range(3))
    someone_else = log_in(UserFactory().email)
    assert post(REVOKE_OTHERS, current["access"]).status_code == 204
    assert not refused(current["access"])
    assert all(refused(tokens["access"]) for tokens in others)
    assert all(refresh(tokens["refresh"]).status_code == 401 for tokens in others)
    assert not refused(someone_else["access"])
    assert get(SESSIONS, current["access"]).json()["count"] == 1
    assert SecurityEvent.objects.filter(kind="other_sessions_revoked", user=user).count() == 1


def test_logout_ends_only_the_current_session(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    assert post(LOGOUT, phone["access"]).status_code == 204
    assert refused(phone["access"])
    assert not refused(laptop["access"])


# --- Refresh: rotation, the grace window, reuse -----------------------------------------


def test_a_retry_within_the_grace_window_gets_the_same_new_pair(user):
    tokens = log_in(user.email)
    first = refresh(tokens["refresh"])
    retry = refresh(tokens["refresh"])
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()  # the very same tokens: the phone that lost the answer goes on
    assert refresh(first.json()["refresh"]).status_code == 200
    assert not SecurityEvent.objects.filter(kind="refresh_reused").exists()


def test_a_reused_refresh_token_ends_its_whole_family(user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0  # the retry comes too late
    other_device = log_in(user.email)
    stolen = log_in(user.email)
    owner = refresh(stolen["refresh"]).json()  # the owner rotates; the thief holds the old token
    reused = refresh(stolen["refresh"], REMOTE_ADDR="192.0.2.66", HTTP_USER_AGENT="curl/8")
    assert reused.status_code == 401
    assert reused.json()["errors"][0]["code"] == "token_not_valid"
    # The family's newer tokens are refused too, access and refresh.
    assert refused(owner["access"])
    assert refresh(owner["refresh"]).status_code == 401
    assert not refused(other_device["access"])
    event = SecurityEvent.objects.get(kind="refresh_reused")
    assert (event.user_id, event.email, event.ip, event.user_agent) == (user.pk, user.email, "192.0.2.66", "curl/8")
    assert Session.objects.get(pk=sid(owner["access"])).end_reason == "refresh_reused"


def test_a_token_two_rotations_old_is_a_reuse_even_within_the_grace_window(user):
    tokens = log_in(user.email)
    second = refresh(tokens["refresh"]).json()
    third = refresh(second["refresh"]).json()
    assert refresh(tokens["refresh"]).status_code == 401
    assert refused(third["access"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("grace", "expected"), [(30, {200}), (0, {200, 401})])
def test_concurrent_refreshes_of_one_token_rotate_it_once(monkeypatch, settings, grace, expected):
    """Four devices' worth of threads send one refresh token at once, on real PostgreSQL.

    The session's row lock orders them: the first rotates, each next one gets the grace
    answer (the same pair), or without a grace window is a reuse that ends the session.
    """
    settings.REFRESH_REUSE_GRACE_SECONDS = grace
    user = UserFactory()
    tokens = log_in(user.email)
    rotate = services._rotate
    rotations = []

    def slow_rotate(session, **kwargs):  # hold the lock long enough for the others to queue
        rotations.append(session.pk)
        time.sleep(0.2)
        return rotate(session, **kwargs)

    monkeypatch.setattr(services, "_rotate", slow_rotate)
    start = threading.Barrier(4)
    answers = []

    def send():
        try:
            start.wait()
            response = refresh(tokens["refresh"])
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rotations) == 1
    assert {status for status, _ in answers} == expected
    pairs = {(body["access"], body["refresh"]) for status, body in answers if status == 200}
    assert len(pairs) == 1
    session = Session.objects.get(pk=sid(tokens["access"]))
    assert session.previous_jti == SessionRefreshToken(tokens["refresh"]).payload["jti"]
    if grace:
        assert session.ended_at is None
        assert not refused(pairs.pop()[0])
    else:
        assert session.end_reason == "refresh_reused"


# --- The audit log -----------------------------------------------------------------------


def test_registration_is_audited(api_client):
    response = api_client.post(
        reverse("auth-register"),
        {"email": "New@Example.com", "password": "correct horse battery"},
        HTTP_USER_AGENT="FitHubTest/1.0",
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 201
    event = SecurityEvent.objects.get(kind="registered")
    assert (event.email, event.ip, event.user_agent) == ("new@example.com", "198.51.100.4", "FitHubTest/1.0")
    assert str(event.user_id) == response.json()["id"]


def test_throttled_logins_are_audited_once_per_window(api_client, user, throttle_rates):
    throttle_rates(login_account="2/min", login_ip="1000/min")
    statuses = [
        api_client.post(TOKEN, {"email": user.email, "password": "wrong"}, REMOTE_ADDR="192.0.2.1").status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 429, 429, 429]
    throttled = SecurityEvent.objects.filter(kind="login_throttled")
    assert list(throttled.values_list("email", "ip")) == [(user.email, "192.0.2.1")]
    assert SecurityEvent.objects.filter(kind="login_failed").count() == 2


# --- Deactivation and deletion end every session ---------------------------------------


def test_deleting_the_account_ends_every_session(user):
    phone, laptop = log_in(user.email), log_in(user.email)
    response = Client().delete(
        reverse("users-me"),
        {"password": PASSWORD},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {phone['access']}",
    )
    assert response.status_code == 204
    assert refused(laptop["access"])
    assert refresh(laptop["refresh"]).status_code == 401
    assert not Session.objects.filter(user_id=user.pk).exists()


def test_deactivating_the_account_ends_every_session(user):
    phone = log_in(user.email)
    services.deactivate_account(user=user)
    assert refused(phone["access"])
    assert refresh(phone["refresh"]).status_code == 401


# --- Refresh tokens from before sessions ----------------------------------------------


def test_a_refresh_token_from_before_sessions_is_adopted_once(user):
    legacy = RefreshToken.for_user(user)  # outstanding in simplejwt's blacklist app, no sid
    assert "sid" not in legacy.payload
    first = refresh(str(legacy))
    assert first.status_code == 200
    assert BlacklistedToken.objects.filter(token__jti=legacy["jti"]).exists()  # the old release refuses it
    assert get(DIARY, first.json()["access"]).status_code == 200
    assert refresh(str(legacy)).json() == first.json()  # a retry: the grace answer
    assert refresh(first.json()["refresh"]).status_code == 200
    assert refresh(str(legacy)).status_code == 401  # now a reuse


def test_a_blacklisted_refresh_token_from_before_sessions_is_refused(user):
    legacy = RefreshToken.for_user(user)
    legacy.blacklist()
    assert refresh(str(legacy)).status_code == 401
    assert not Session.objects.filter(user=user).exists()


def test_an_access_token_from_before_sessions_is_refused(user):
    response = get(DIARY, str(RefreshToken.for_user(user).access_token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "token_not_valid"


# --- On the primary ----------------------------------------------------------------------


@pytest.mark.replica
def test_sessions_are_read_on_the_primary_while_the_replica_lags(paused_replica):  # noqa: F811
    user = UserFactory()
    tokens = log_in(user.email)  # the session is not on the paused replica
    cache.clear()
    with CaptureQueriesContext(connections[paused_replica]) as on_replica:
        assert get(SESSIONS, tokens["access"]).json()["count"] == 1
    assert len(on_replica) == 0
    other = log_in(user.email)
    assert post(LOGOUT, other["access"]).status_code == 204
    cache.clear()  # the replica still has it alive; the primary decides
    assert refused(other["access"])
    assert get(DIARY, tokens["access"]).status_code == 200
