"""Writes on accounts and their sessions. Each is one transaction; validation errors are
Django ValidationErrors."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.users import registry
from apps.users.models import User
from fithub.api.authentication import remember_session_alive, remember_sessions_ended
from fithub.api.tokens import SESSION_CLAIM, SessionRefreshToken, TokenPair, new_jti, pair_for, refresh_expiry
from fithub.db import change_log
from fithub.models import Session
from fithub.ops import metrics

PROFILE_FIELDS = ("display_name", "sex", "birth_date", "height_cm", "activity_level", "timezone", "unit_system")


@transaction.atomic
def register_user(*, email: str, password: str, display_name: str = "") -> User:
    candidate = User(email=User.objects.normalize_email(email), display_name=display_name)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from exc
    return User.objects.create_user(email=email, password=password, display_name=display_name)


@transaction.atomic
def update_profile(*, user: User, data: dict) -> User:
    """Update the whitelisted profile fields in `data`; anything else is ignored."""
    changed = [field for field in PROFILE_FIELDS if field in data]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.full_clean(exclude=["password"])
        user.save(update_fields=[*changed, "updated_at"])
    return user


@transaction.atomic
def change_password(
    *, user: User, old_password: str, new_password: str, ip: str | None = None, user_agent: str = ""
) -> TokenPair:
    """Change the password and end every session of the account, the caller's too: the
    tokens issued before are all refused. The caller's device goes on with the pair of a
    new session, returned here."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not correct."]}, code="invalid")
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    end_sessions(user=user, reason=Session.EndReason.PASSWORD_CHANGED)
    return start_session(user=user, ip=ip, user_agent=user_agent)


@transaction.atomic
def delete_account(*, user: User, password: str) -> None:
    """Delete the user and every row they own, their sessions too."""
    if not user.check_password(password):
        raise ValidationError({"password": ["The password is not correct."]}, code="invalid")
    remove_account(user=user)
    metrics.record_delete(User)


@transaction.atomic
def remove_account(*, user: User) -> None:
    """End the user's sessions, then delete the user and their rows: each app's in a few bulk
    statements (`registry.add_account_deleter`), the rest (sessions, idempotency records)
    through the foreign keys. The number of statements does not grow with the rows. The
    account's change log goes first (fithub.db.change_log.forget_user): a deleted account
    has no feed to keep, and other accounts' rows that go with it are still recorded."""
    # First: the rows deleted next record no tombstones for an account that is going.
    change_log.forget_user(user.pk)
    end_sessions(user=user, reason=Session.EndReason.ACCOUNT_DELETED)
    for deleter in registry.account_deleters():
        deleter(user=user)
    user.delete()


@transaction.atomic
def deactivate_account(*, user: User) -> None:
    """The account can no longer log in, and its sessions end (an admin's action)."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
    end_sessions(user=user, reason=Session.EndReason.ACCOUNT_DEACTIVATED)


# --- Sessions --------------------------------------------------------------------------


class RefreshRefused(Exception):
    """A refresh token that gives no new pair. `reused_by` is the owner of the session that a
    reused token has just ended (worth an audit event), None otherwise."""

    def __init__(self, detail: str, *, reused_by: User | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reused_by = reused_by


def _ip_and_agent(ip: str | None, user_agent: str) -> dict:
    return {"ip": ip, "user_agent": (user_agent or "")[:512]}


@transaction.atomic
def start_session(*, user: User, ip: str | None = None, user_agent: str = "") -> TokenPair:
    """A new session for a device that proved who it is (a login): its first pair."""
    now = timezone.now()
    session = Session(
        user=user,
        last_used_at=now,
        refresh_jti=new_jti(),
        rotated_at=now,
        expires_at=refresh_expiry(now),
        **_ip_and_agent(ip, user_agent),
    )
    session.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    session.save(force_insert=True)
    remember_session_alive(session.pk)
    return pair_for(session)


def refresh_session(*, refresh: str, ip: str | None = None, user_agent: str = "") -> TokenPair:
    """The next pair of a session, for its valid refresh token (which then stops being valid).

    The session's row is locked, so concurrent refreshes of one token are answered one after
    the other: the first rotates, the next ones (within REFRESH_REUSE_GRACE_SECONDS of the
    rotation) get the same new pair again. Any other earlier refresh token of the family is
    a reuse (OAuth 2.0 Security BCP): the session ends, so whoever holds its tokens, thief or
    owner, is refused, and RefreshRefused says whose session it was.
    """
    try:
        claims = SessionRefreshToken(refresh).payload
    except TokenError as exc:
        raise RefreshRefused(str(exc)) from exc
    jti = str(claims[api_settings.JTI_CLAIM])
    try:
        user_id = uuid.UUID(str(claims[api_settings.USER_ID_CLAIM]))
        session_id = uuid.UUID(str(claims[SESSION_CLAIM])) if SESSION_CLAIM in claims else legacy_session_id(jti)
    except (KeyError, ValueError):
        raise RefreshRefused("Token is invalid") from None
    reused_by = None
    with transaction.atomic():
        if SESSION_CLAIM not in claims:
            _adopt_legacy_refresh_token(session_id=session_id, jti=jti, user_id=user_id)
        session = (
            Session.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=session_id, user_id=user_id)
            .first()
        )
        if session is None or session.ended_at is not None or not session.user.is_active:
            raise RefreshRefused("The session has ended")
        now = timezone.now()
        if jti == session.refresh_jti:
            return _rotate(session, now=now, ip=ip, user_agent=user_agent)
        grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
        if jti == session.previous_jti and now - session.rotated_at <= grace:
            return pair_for(session)  # what the rotation answered: its client did not get it
        _end(Session.objects.filter(pk=session.pk), reason=Session.EndReason.REFRESH_REUSED, now=now)
        reused_by = session.user
    raise RefreshRefused("Token was already used: the session has ended", reused_by=reused_by)


def _rotate(session: Session, *, now, ip: str | None, user_agent: str) -> TokenPair:
    session.previous_jti = session.refresh_jti
    session.refresh_jti = new_jti()
    session.rotated_at = now
    session.expires_at = refresh_expiry(now)
    session.last_used_at = now
    for field, value in _ip_and_agent(ip, user_agent).items():
        setattr(session, field, value)
    session.save(
        update_fields=[
            "previous_jti",
            "refresh_jti",
            "rotated_at",
            "expires_at",
            "last_used_at",
            "ip",
            "user_agent",
            "updated_at",
        ]
    )
    remember_session_alive(session.pk)
    return pair_for(session)


def _end(sessions, *, reason: str, now=None) -> list[uuid.UUID]:
    """End the live sessions among `sessions`: their access tokens are refused at once.

    They are marked ended in the cache before the transaction commits, not after: a
    request in between is refused as it will be once the end is committed, and if the
    transaction rolls back, the mark can only refuse a live session for a while (its
    refresh still works), never let an ended one through.
    """
    now = now or timezone.now()
    ids = list(sessions.filter(ended_at__isnull=True).select_for_update().values_list("pk", flat=True))
    if ids:
        Session.objects.filter(pk__in=ids).update(ended_at=now, end_reason=reason, updated_at=now)
        remember_sessions_ended(ids)
    return ids


@transaction.atomic
def end_session(*, user: User, session_id: uuid.UUID, reason: str) -> bool:
    """End one live session of the user's (logout, the sessions list); False if there is none."""
    return bool(_end(Session.objects.filter(user=user, pk=session_id), reason=reason))


@transaction.atomic
def end_sessions(*, user: User, reason: str, keep: uuid.UUID | None = None) -> list[uuid.UUID]:
    """End every live session of the user's but `keep`; the ids of those ended."""
    sessions = Session.objects.filter(user=user)
    if keep is not None:
        sessions = sessions.exclude(pk=keep)
    _blacklist_legacy_refresh_tokens(user=user)
    return _end(sessions, reason=reason)


def refresh_token_of_session(*, token: str, session_id: uuid.UUID) -> bool:
    """Whether `token` is a valid (signed, unexpired) refresh token of that session."""
    try:
        claims = SessionRefreshToken(token).payload
    except TokenError:
        return False
    return str(claims.get(SESSION_CLAIM)) == str(session_id)


# --- Refresh tokens from before sessions ------------------------------------------------
# Until REFRESH_TOKEN_LIFETIME after the release that brought sessions, refresh tokens without
# a `sid` are still in the wild. simplejwt's blacklist app knows them: one that is outstanding
# and not blacklisted starts a session once, whose id derives from the token's jti (so a retry
# or a reuse of it finds the same family), and is blacklisted (instances of the release before
# refuse it too). Ending all of a user's (other) sessions blacklists those not yet adopted: a
# password change, deactivation or "end the others" covers them too. A pre-session access
# token is refused (401 token_not_valid): the client refreshes, as after any expiry.
# Remove this with the token_blacklist app (docs/OPERATIONS.md).

_LEGACY_SESSION_NAMESPACE = uuid.UUID("0f3d2c9e-7a41-4b8e-9d6f-2e5a1c7b4f30")


def legacy_session_id(jti: str) -> uuid.UUID:
    return uuid.uuid5(_LEGACY_SESSION_NAMESPACE, jti)


def _blacklist_legacy_refresh_tokens(*, user: User) -> None:
    """The user's pre-session refresh tokens not yet adopted are sessions to be: when all the
    user's (other) sessions end, they may not start one any more (nor work on an instance of
    the release before). An adopted one is blacklisted already."""
    waiting = OutstandingToken.objects.filter(user_id=user.pk, blacklistedtoken__isnull=True, expires_at__gt=Now())
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in waiting.values_list("pk", flat=True)], ignore_conflicts=True
    )


def _adopt_legacy_refresh_token(*, session_id: uuid.UUID, jti: str, user_id: uuid.UUID) -> None:
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti, user_id=user_id).first()
    if outstanding is None or Session.objects.filter(pk=session_id).exists():
        return
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        return
    BlacklistedToken.objects.create(token=outstanding)
    now = timezone.now()
    Session.objects.create(
        id=session_id,
        user_id=user_id,
        last_used_at=now,
        refresh_jti=jti,
        rotated_at=outstanding.created_at or now,
        expires_at=outstanding.expires_at,
        **_ip_and_agent(None, ""),
    )
