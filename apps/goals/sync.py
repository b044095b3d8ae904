"""Goals in the sync feed (fithub.sync.registry)."""

from apps.goals.api import examples
from apps.goals.api.serializers import GoalSerializer
from apps.goals.models import Goal
from fithub.sync import registry


def register() -> None:
    registry.register(
        "goal",
        model=Goal,
        serializer=GoalSerializer,
        rows=lambda user: Goal.objects.select_related("type").filter(user_id=user.pk),
        example=examples.GOAL_EXAMPLE.value,
    )
