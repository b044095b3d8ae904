"""JWT authentication that trusts a verified access token instead of loading the user.

An access token is signed and lives ACCESS_TOKEN_LIFETIME (15 minutes by default), so the
request's user is built from its `user_id` claim (`TokenUser`, below) and a read that only
scopes rows to the user costs no query for the user. What a database lookup would catch is
kept:

- an ended session: every token carries its session's id (`sid`, `fithub.api.tokens`), and
  the session's state is read with the user's last write position in one cache round trip.
  Ending sessions (logout, a password change, the sessions list, a reused refresh token,
  account deletion or deactivation) writes `ended_at` in the database and then marks them
  ended in the shared cache. When the cache does not know a session (a restart, an
  eviction) or cannot be reached, the database answers, on the primary, with one query by
  primary key; a live session is then remembered for SESSION_ALIVE_CACHE_SECONDS (with
  `add`, so it never overwrites an ended mark written meanwhile). A row that is gone (a
  deleted account) is an ended session;
- a deleted or deactivated account: the first view that reads the user's fields loads the
  row and refuses a missing or inactive user (401) in any case;
- a token past its expiry is refused: verified tokens are remembered per process (checking
  the signature and decoding the claims cost more than the rest of authentication), but
  only until their `exp`;
- read-your-writes: for a user who wrote in the last READ_YOUR_WRITES_SECONDS, this
  request reads from a replica only once it has replayed the write
  (`fithub.db.read_your_writes`); without the cache, from the primary.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import OperationalError
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from fithub.api.tokens import SESSION_CLAIM
from fithub.db.read_your_writes import position_key, require_replayed
from fithub.db.router import pin_current_context_to_primary, reads_pinned_to_primary, use_primary
from fithub.models import Session
from fithub.ops import shared_cache

User = get_user_model()
logger = logging.getLogger(__name__)


class TokenUser(User):
    """The user of a request authenticated by a verified access token: only the id is set,
    so a view that scopes rows to the user (`filter(user=request.user)`, a foreign key)
    costs no query. The first read of any other field loads the whole row in one query,
    from the primary when the replica does not have it yet (a user who signed up a moment
    ago). A user deleted or deactivated since the token was issued is refused there: 401
    `user_not_found` / `user_inactive`.

    A proxy of the user model declared here, beside the authentication it serves, in the
    user model's app (its migration state is unchanged): the model itself knows nothing of
    tokens, replicas or HTTP.
    """

    class Meta:
        proxy = True
        app_label = User._meta.app_label
        default_permissions = ()

    @classmethod
    def from_token(cls, pk) -> TokenUser:
        return cls.from_db(None, ["id"], [pk])

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        if fields is not None:
            fields = {*fields, *self.get_deferred_fields()}
        try:
            super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        except User.DoesNotExist:
            if not settings.DATABASE_REPLICAS or reads_pinned_to_primary():
                raise exceptions.AuthenticationFailed("User not found", code="user_not_found") from None
            with use_primary():
                return self.refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if not self.is_active:
            raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")
        return None


# A session's state in the shared cache: ended (until its access tokens have all expired), or
# alive (for SESSION_ALIVE_CACHE_SECONDS).
SESSION_ENDED, SESSION_ALIVE = 0, 1


def _session_key(session_id) -> str:
    return f"fithub:session:{session_id}"


def _ended_mark_seconds() -> int:
    return int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds() + _leeway_seconds()) + 60


def remember_sessions_ended(session_ids: Iterable) -> None:
    """Refuse these sessions' access tokens on every instance from now on (their end is
    being written to the database). If the cache cannot be reached, the database still
    refuses them as soon as the cache stops remembering them alive
    (SESSION_ALIVE_CACHE_SECONDS)."""
    marks = {_session_key(session_id): SESSION_ENDED for session_id in session_ids}
    if not marks:
        return
    if not shared_cache.set_many(marks, timeout=_ended_mark_seconds(), purpose="session_mark"):
        logger.warning("could not mark %d ended sessions in the cache", len(marks))


def remember_session_alive(session_id) -> None:
    """Spare the next requests of a session that is alive (just started, or refreshed under
    its row lock) the database lookup. `add`: an ended mark written meanwhile stays."""
    _remember(session_id, alive=True)


def _remember(session_id, *, alive: bool) -> None:
    key = _session_key(session_id)
    if alive:
        shared_cache.add(key, SESSION_ALIVE, timeout=settings.SESSION_ALIVE_CACHE_SECONDS, purpose="session_mark")
    else:
        shared_cache.add(key, SESSION_ENDED, timeout=_ended_mark_seconds(), purpose="session_mark")


def session_alive_in_database(session_id, user_id) -> bool:
    """The database's answer, on the primary (a replica may not have the session's end, or
    its start, yet). When the primary cannot be reached, a replica answers: its lag is
    bounded, and reads it can serve keep working during a primary outage."""
    alive = Session.objects.filter(pk=session_id, user_id=user_id, ended_at__isnull=True)
    try:
        with use_primary():
            return alive.exists()
    except OperationalError:
        if not settings.DATABASE_REPLICAS or reads_pinned_to_primary():
            raise
    return alive.exists()


# Access tokens whose signature and claims were verified in this process, until their expiry:
# {raw token: (validated token, exp + leeway)}. Emptied when full.
_verified: dict[bytes, tuple] = {}
VERIFIED_TOKENS_MAX = 4096


def _leeway_seconds() -> float:
    leeway = api_settings.LEEWAY
    return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway or 0)


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's token checks; the user comes from the token (see the module docstring)."""

    def get_validated_token(self, raw_token: bytes):
        remembered = _verified.get(raw_token)
        if remembered is not None and time.time() < remembered[1]:
            return remembered[0]
        token = super().get_validated_token(raw_token)
        expires = token.get("exp")
        if isinstance(expires, int | float):
            if len(_verified) >= VERIFIED_TOKENS_MAX:
                _verified.clear()
            _verified[bytes(raw_token)] = (token, expires + _leeway_seconds())
        return token

    def get_user(self, validated_token) -> TokenUser:
        try:
            user_id = User._meta.pk.to_python(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, ValidationError):
            raise InvalidToken("Token contained no recognizable user identification") from None
        try:
            session_id = uuid.UUID(str(validated_token[SESSION_CLAIM]))
        except (KeyError, ValueError):
            # Tokens from before sessions existed: the client refreshes (its refresh token
            # is adopted into a session) or logs in again.
            raise InvalidToken("Token belongs to no session") from None
        written, session = position_key(user_id), _session_key(session_id)
        flags = shared_cache.get_many([written, session], purpose="auth")
        state = None if flags is None else flags.get(session)
        if state is None:
            alive = session_alive_in_database(session_id, user_id)
            if flags is not None:
                _remember(session_id, alive=alive)
        else:
            alive = state == SESSION_ALIVE
        if not alive:
            raise AuthenticationFailed("This session has ended: log in again.", code="session_ended")
        if settings.DATABASE_REPLICAS:
            if flags is None:
                # Without the cache the last write is unknown: the primary cannot be stale.
                pin_current_context_to_primary()
            elif written in flags:
                require_replayed(flags[written])
        return TokenUser.from_token(user_id)
