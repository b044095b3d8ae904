"""Refuse the access tokens of an account that is deleted or deactivated (admin or API)."""

from django.db.models.signals import post_delete, post_save

from apps.users.models import User
from fithub.api.authentication import TokenUser, revoke_access_tokens


def _deleted(sender, instance: User, **kwargs) -> None:
    revoke_access_tokens(instance.pk)


def _saved(sender, instance: User, created: bool, **kwargs) -> None:
    if not created and not instance.is_active:
        revoke_access_tokens(instance.pk)


def connect() -> None:
    # A request's own user is a TokenUser, whose signals carry that proxy as sender.
    for model in (User, TokenUser):
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"revoke-deleted-{model.__name__}")
        post_save.connect(_saved, sender=model, dispatch_uid=f"revoke-deactivated-{model.__name__}")
