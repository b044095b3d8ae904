"""Writes on accounts. Each is one transaction; validation errors are Django ValidationErrors."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users.models import User
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
def change_password(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["The current password is not correct."]}, code="invalid")
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])


@transaction.atomic
def delete_account(*, user: User, password: str) -> None:
    """Delete the user and, through the foreign keys, every row they own."""
    if not user.check_password(password):
        raise ValidationError({"password": ["The password is not correct."]}, code="invalid")
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in OutstandingToken.objects.filter(user=user)],
        ignore_conflicts=True,
    )
    user.delete()
    metrics.record_delete(User)


def blacklist_refresh_token(*, token: str) -> None:
    """Blacklist a refresh token (logout). An invalid or already blacklisted token is an error."""
    try:
        RefreshToken(token).blacklist()
    except TokenError as exc:
        raise ValidationError({"refresh": [ValidationError(str(exc), code="token_not_valid")]}) from exc
