"""The profile in the sync feed (fithub.sync.registry): the user row, `profile`, its id the
user's. It changes with the latest weight too (bmi, bmr_kcal, tdee_kcal: the measurements
migration bumps it)."""

from apps.users.api import examples
from apps.users.api.serializers import UserSerializer
from apps.users.models import User
from fithub.sync import registry


def register() -> None:
    registry.register(
        "profile",
        model=User,
        serializer=UserSerializer,
        rows=lambda user: User.objects.filter(pk=user.pk),
        example=examples.PROFILE_EXAMPLE.value,
        description="Yours, its id your user id.",
    )
