"""JWT authentication that trusts a verified access token instead of loading the user.

An access token is signed and lives ACCESS_TOKEN_LIFETIME (15 minutes by default), so the
request's user is built from its `user_id` claim (`TokenUser`, below) and a read that only
scopes rows to the user costs no query for the user. What a database lookup would catch is
kept:

- a deleted or deactivated account: `revoke_access_tokens` (called from the user model's
  signals) marks the tokens issued until then as refused, in the shared cache, for one
  token lifetime; and the first view that reads the user's fields loads the row and
  refuses a missing or inactive user (401) in any case, cache or not;
- a token past its expiry is refused: verified tokens are remembered per process (checking
  the signature and decoding the claims cost more than the rest of authentication), but
  only until their `exp`;
- read-your-writes: a user who wrote in the last READ_YOUR_WRITES_SECONDS reads from the
  primary for the rest of this request (the pin is read with the revocation, in one cache
  round trip).
"""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from fithub.db.router import pin_current_context_to_primary, pin_key, reads_pinned_to_primary, use_primary

User = get_user_model()


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


def _revoked_key(user_id) -> str:
    return f"fithub:access-revoked:{user_id}"


def revoke_access_tokens(user_id) -> None:
    """Refuse the access tokens issued to this user until now (their refresh tokens are
    blacklisted separately). Kept as long as such a token can live."""
    lifetime = api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    cache.set(_revoked_key(user_id), int(time.time()), timeout=int(lifetime) + 60)


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
        flags = cache.get_many([pin_key(user_id), _revoked_key(user_id)])
        revoked_at = flags.get(_revoked_key(user_id))
        # A token issued in the second of the revocation is refused too (iat is in seconds).
        if revoked_at is not None and validated_token.get("iat", 0) <= revoked_at:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if pin_key(user_id) in flags and settings.DATABASE_REPLICAS:
            pin_current_context_to_primary()
        return TokenUser.from_token(user_id)
