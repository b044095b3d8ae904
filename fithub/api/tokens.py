"""The tokens of a session (`fithub.models.Session`): a refresh and an access token that
both carry its id in the `sid` claim.

A session's pair is a function of its columns: the valid refresh token's `jti`, when it was
issued (`rotated_at`, the pair's `iat`), the user and the session. HS256 signatures and the
claims' order are deterministic, so the pair can be signed again: a refresh retried within
the grace window gets the very tokens the first attempt got, and no token is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from rest_framework_simplejwt import state
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import datetime_from_epoch

SESSION_CLAIM = "sid"

# The access token's jti derives from its refresh token's (uuid5): one pair, one value.
_ACCESS_JTI_NAMESPACE = uuid.UUID("5b0c7c34-54f1-4d43-9a43-3c5e2f0e7b61")


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


class SessionRefreshToken(Token):
    """A refresh token, verified as simplejwt verifies one (signature, `exp`, type, `jti`)
    but without the blacklist app's lookup: its session knows the family's valid token."""

    token_type = "refresh"  # noqa: S105 - a claim value, not a password
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME


def new_jti() -> str:
    return uuid.uuid4().hex


def _seconds(lifetime) -> int:
    return int(lifetime.total_seconds())


def refresh_expiry(rotated_at: datetime) -> datetime:
    """When the refresh token issued at `rotated_at` expires (its `exp`, whole seconds)."""
    return datetime_from_epoch(int(rotated_at.timestamp()) + _seconds(api_settings.REFRESH_TOKEN_LIFETIME))


def pair_for(session) -> TokenPair:
    """The session's current pair: the refresh token `refresh_jti` and its access token."""
    issued_at = int(session.rotated_at.timestamp())
    owner = {api_settings.USER_ID_CLAIM: str(session.user_id), SESSION_CLAIM: str(session.pk)}
    refresh = {
        api_settings.TOKEN_TYPE_CLAIM: "refresh",
        "exp": issued_at + _seconds(api_settings.REFRESH_TOKEN_LIFETIME),
        "iat": issued_at,
        api_settings.JTI_CLAIM: session.refresh_jti,
        **owner,
    }
    access = {
        api_settings.TOKEN_TYPE_CLAIM: "access",
        "exp": issued_at + _seconds(api_settings.ACCESS_TOKEN_LIFETIME),
        "iat": issued_at,
        api_settings.JTI_CLAIM: uuid.uuid5(_ACCESS_JTI_NAMESPACE, session.refresh_jti).hex,
        **owner,
    }
    return TokenPair(access=state.token_backend.encode(access), refresh=state.token_backend.encode(refresh))
