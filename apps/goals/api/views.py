from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.goals import selectors, services
from apps.goals.api.examples import GOAL_EXAMPLE, PROGRESS_EXAMPLE, SET_WEIGHT_GOAL
from apps.goals.api.serializers import GoalProgressSerializer, GoalSerializer
from apps.goals.filters import GoalFilter
from apps.goals.models import Goal
from fithub.api.viewsets import OwnedModelViewSet


# Codes the services raise: no start value and no measurement to default it from, and values
# outside the type's sensible range.
@extend_validation_errors(["required", "out_of_range"], field_name="start_value", actions=["create"])
@extend_validation_errors(["out_of_range"], field_name="start_value", actions=["partial_update"])
@extend_validation_errors(["out_of_range"], field_name="target_value", actions=["create", "partial_update"])
@extend_schema(tags=["goals"])
@extend_schema_view(
    list=extend_schema(summary="List your goals", examples=[GOAL_EXAMPLE]),
    retrieve=extend_schema(summary="Read a goal", examples=[GOAL_EXAMPLE]),
    create=extend_schema(summary="Set a goal", examples=[SET_WEIGHT_GOAL, GOAL_EXAMPLE]),
    partial_update=extend_schema(summary="Change or abandon a goal", examples=[GOAL_EXAMPLE]),
    destroy=extend_schema(summary="Delete a goal"),
)
class GoalViewSet(OwnedModelViewSet):
    """Goals for a measurement type: reach `target_value` by `target_date`. A goal becomes
    `achieved` by itself when a new measurement reaches the target, and at once when it is
    created or reactivated already reached (the latest measurement since its start date
    reaches the target); one active goal per type."""

    queryset = Goal.objects.all()
    serializer_class = GoalSerializer
    filterset_class = GoalFilter

    def get_base_queryset(self):
        return Goal.objects.select_related("type", "user")

    def perform_create(self, serializer):
        serializer.instance = services.create_goal(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.update_goal(goal=serializer.instance, data=serializer.validated_data)

    @extend_schema(
        summary="Progress towards a goal",
        responses={200: GoalProgressSerializer},
        examples=[PROGRESS_EXAMPLE],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def progress(self, request, pk=None):
        """Current value, percent complete (for goals going down or up), remaining, and the
        date the trend (7-day moving average, rate over the last week, from the last 28
        days) projects the target to be reached; `on_track` when that is by target_date."""
        progress = selectors.goal_progress(goal=self.get_object())
        return Response(GoalProgressSerializer(progress.__dict__, context=self.get_serializer_context()).data)
