"""The abstract models the apps share, and the tables fithub's own API plumbing keeps: the
Idempotency-Key records of `fithub.api.idempotency` and the sessions the JWT authentication
checks (`fithub.api.authentication`)."""

import uuid

from django.conf import settings
from django.db import models
from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    """A time-ordered UUID (version 7): new rows land at the end of the primary key index."""
    return uuid7()


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimeStampedModel):
    """A row that belongs to one user. The client may choose its id (offline-first apps)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a POST sent with an Idempotency-Key, replayed to its retries.

    Keys are per user and expire after IDEMPOTENCY_KEY_TTL_HOURS. The fingerprint (method,
    path and body) tells a retry from a different request reusing the key. The table keeps
    the name it had in the users app.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "users_idempotencyrecord"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class Session(TimeStampedModel):
    """One signed-in device: a refresh-token family, from a login through each rotation.

    Its id is the `sid` claim of every token of the family, refresh and access alike, so
    ending the session (`ended_at`) refuses them all, and nothing else: a new login, or the
    pair a password change answers, belongs to another session. A family has one valid
    refresh token at a time (`refresh_jti`); the one it replaced (`previous_jti`) is answered
    with the same pair again for a few seconds after the rotation (a retry that lost the
    response), and any other earlier one is a reuse that ends the session. The pair is a
    function of these columns (`fithub.api.tokens.pair_for`), so the tokens are not stored.
    A row that is gone (a deleted account, a cleanup) refuses its tokens as an ended one does.
    """

    class EndReason(models.TextChoices):
        LOGOUT = "logout"
        REVOKED = "revoked", "Ended from the sessions list"
        PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a password
        REFRESH_REUSED = "refresh_reused"
        ACCOUNT_DEACTIVATED = "account_deactivated"
        ACCOUNT_DELETED = "account_deleted"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_used_at = models.DateTimeField(help_text="The last login or token refresh of this session.")
    ip = models.GenericIPAddressField(null=True, blank=True, help_text="The client address of the last use.")
    user_agent = models.CharField(max_length=512, blank=True, help_text="The client of the last use.")
    refresh_jti = models.CharField(max_length=64, help_text="The `jti` of the family's one valid refresh token.")
    previous_jti = models.CharField(max_length=64, blank=True, help_text="The refresh token it replaced.")
    rotated_at = models.DateTimeField(help_text="When the valid refresh token was issued (its pair's `iat`).")
    expires_at = models.DateTimeField(help_text="When the valid refresh token expires.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | (models.Q(ended_at__isnull=False) & ~models.Q(end_reason="")),
                name="session_ended_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.pk}"
