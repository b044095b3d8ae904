"""Abstract models shared by the apps."""

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
