"""The abstract models the apps share, and the tables fithub's own API plumbing keeps: the
Idempotency-Key records of `fithub.api.idempotency`, the sessions the JWT authentication
checks (`fithub.api.authentication`) and the change log of the sync feed
(`fithub.db.change_log`)."""

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


class VersionedModel(models.Model):
    """A row with a `version`: 1 when created, one more on every update by any path (a
    database trigger sets it: `fithub.db.change_log`). A save that updated the row gives the
    instance the version the database computed, the loaded one + 1 (exact when the instance
    was read for the write, as the services and the API do; several statements of one
    transaction on a row with children bump it once each: such services read it back)."""

    version = models.PositiveIntegerField(
        default=1, db_default=1, editable=False, help_text="1 when created, one more on every change."
    )

    class Meta:
        abstract = True

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        updated = super()._do_update(base_qs, using, pk_val, values, update_fields, forced_update)
        if updated and values:  # an UPDATE ran and found the row
            self.version += 1
        return updated


class OwnedModel(VersionedModel, TimeStampedModel):
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


class ChangeSequence(models.Model):
    """A user's change counter: `seq` is the sequence number of their latest change, taken
    (and locked until commit) by every transaction that changes one of their rows; tombstones
    numbered up to `pruned_through` were pruned, so a cursor below it may have missed one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    seq = models.BigIntegerField(default=0)
    pruned_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.seq}"


class Change(models.Model):
    """The latest change of one of a user's objects (`type`, `object_id`): its sequence
    number, whether it was an upsert or a delete (a tombstone) and the object's version then.
    Written by the database's triggers only (`fithub.db.change_log`), in place: one row per
    object, live or deleted."""

    class Op(models.TextChoices):
        UPSERT = "upsert"
        DELETE = "delete"

    pk = models.CompositePrimaryKey("user", "type", "object_id")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=32)
    object_id = models.UUIDField()
    seq = models.BigIntegerField()
    op = models.CharField(max_length=6, choices=Op.choices)
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(help_text="When the change was written (tombstones are pruned by it).")

    class Meta:
        indexes = [
            models.Index(fields=["user", "seq"], name="change_user_seq_idx"),
            # The tombstones to prune, oldest first.
            models.Index(fields=["changed_at"], name="change_tombstone_idx", condition=models.Q(op="delete")),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} #{self.seq} {self.op} {self.type} {self.object_id}"
