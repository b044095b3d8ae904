from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.decorators import action
from rest_framework.response import Response

import apps.nutrition.selectors
import apps.nutrition.services
from apps.goals import selectors, services
from apps.goals.api.serializers import GoalProgressSerializer, GoalSerializer
from apps.goals.filters import GoalFilter
from apps.goals.models import Goal
from apps.nutrition.api.serializers import AdherenceQuerySerializer, AdherenceSerializer, NutritionTargetSerializer
from apps.nutrition.models import NutritionTarget
from fithub.api.viewsets import OwnedModelViewSet

GOAL_EXAMPLE = OpenApiExample(
    "Lose 6 kg by spring",
    value={
        "id": "01936b2e-8f4a-7c3d-9e21-5a7b8c9d0e1f",
        "type": "01936b2e-0000-7000-8000-000000000001",
        "type_key": "weight",
        "unit": "kg",
        "start_value": 82.0,
        "target_value": 76.0,
        "start_date": "2026-11-01",
        "target_date": "2027-03-01",
        "status": "active",
        "achieved_at": None,
        "direction": "down",
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": "2026-11-01T08:00:00Z",
    },
    response_only=True,
)
GOAL_INPUT_EXAMPLE = OpenApiExample(
    "New weight goal", value={"type": "weight", "target_value": 76, "target_date": "2027-03-01"}, request_only=True
)


# Codes the services raise: no start value and no measurement to default it from, and values
# outside the type's sensible range.
@extend_validation_errors(["required", "out_of_range"], field_name="start_value", actions=["create"])
@extend_validation_errors(["out_of_range"], field_name="start_value", actions=["partial_update"])
@extend_validation_errors(["out_of_range"], field_name="target_value", actions=["create", "partial_update"])
@extend_schema(tags=["goals"])
@extend_schema_view(
    list=extend_schema(summary="List your goals", examples=[GOAL_EXAMPLE]),
    retrieve=extend_schema(summary="Read a goal", examples=[GOAL_EXAMPLE]),
    create=extend_schema(summary="Set a goal", examples=[GOAL_INPUT_EXAMPLE, GOAL_EXAMPLE]),
    partial_update=extend_schema(summary="Change or abandon a goal", examples=[GOAL_EXAMPLE]),
    destroy=extend_schema(summary="Delete a goal"),
)
class GoalViewSet(OwnedModelViewSet):
    """Goals for a measurement type: reach `target_value` by `target_date`. A goal becomes
    `achieved` by itself when a new measurement reaches the target; one active goal per type."""

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
        examples=[
            OpenApiExample(
                "Progress",
                value={
                    "goal": GOAL_EXAMPLE.value,
                    "direction": "down",
                    "current_value": 79.4,
                    "current_measured_at": "2026-11-20T06:15:00Z",
                    "percent_complete": 43.3,
                    "remaining": 3.4,
                    "trend_value": 79.6,
                    "rate_per_week": -0.5,
                    "projected_date": "2027-01-10",
                    "on_track": True,
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def progress(self, request, pk=None):
        """Current value, percent complete (for goals going down or up), remaining, and the
        date the trend (7-day moving average, rate over the last week, from the last 28
        days) projects the target to be reached; `on_track` when that is by target_date."""
        progress = selectors.goal_progress(goal=self.get_object())
        return Response(GoalProgressSerializer(progress.__dict__, context=self.get_serializer_context()).data)


TARGET_EXAMPLE = OpenApiExample(
    "A target",
    value={
        "id": "01936b2e-9a00-7c3d-9e21-5a7b8c9d0e1f",
        "energy_kcal": 2000.0,
        "protein_g": 130.0,
        "fat_g": 70.0,
        "carbohydrate_g": 210.0,
        "effective_from": "2026-11-01",
        "created_at": "2026-10-31T20:00:00Z",
        "updated_at": "2026-10-31T20:00:00Z",
    },
    response_only=True,
)


@extend_validation_errors(["required", "invalid"], field_name="start", actions=["adherence"])
@extend_validation_errors(["required", "invalid", "range_too_long"], field_name="end", actions=["adherence"])
@extend_schema(tags=["goals"])
@extend_schema_view(
    list=extend_schema(summary="Your nutrition targets, newest effective date first", examples=[TARGET_EXAMPLE]),
    retrieve=extend_schema(summary="Read a nutrition target", examples=[TARGET_EXAMPLE]),
    create=extend_schema(
        summary="Set a nutrition target from a date on",
        examples=[
            OpenApiExample(
                "From Monday",
                value={"energy_kcal": 2000, "protein_g": 130, "effective_from": "2026-11-23"},
                request_only=True,
            ),
            TARGET_EXAMPLE,
        ],
    ),
    destroy=extend_schema(summary="Delete a nutrition target set by mistake"),
)
class NutritionTargetViewSet(OwnedModelViewSet):
    """Daily energy and macro targets. Each applies from its `effective_from` day until the
    next one's: a change is a new target, and the history stays, so every past day keeps the
    target that was in force then. One target per date."""

    queryset = NutritionTarget.objects.all()
    serializer_class = NutritionTargetSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = apps.nutrition.services.set_nutrition_target(
            user=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        summary="Adherence to your targets, day by day, and the current streak",
        parameters=[AdherenceQuerySerializer],
        responses={200: AdherenceSerializer},
        examples=[
            OpenApiExample(
                "Three days",
                value={
                    "start": "2026-11-19",
                    "end": "2026-11-21",
                    "tolerance_percent": 10,
                    "streak": 2,
                    "days": [
                        {"date": "2026-11-19", "target": None, "energy_kcal": 2450.0, "within_target": None},
                        {
                            "date": "2026-11-20",
                            "target": {
                                "id": "01936b2e-9a00-7c3d-9e21-5a7b8c9d0e1f",
                                "energy_kcal": 2000.0,
                                "protein_g": 130.0,
                                "fat_g": 70.0,
                                "carbohydrate_g": 210.0,
                                "effective_from": "2026-11-20",
                            },
                            "energy_kcal": 2104.5,
                            "within_target": True,
                        },
                        {
                            "date": "2026-11-21",
                            "target": {
                                "id": "01936b2e-9a00-7c3d-9e21-5a7b8c9d0e1f",
                                "energy_kcal": 2000.0,
                                "protein_g": 130.0,
                                "fat_g": 70.0,
                                "carbohydrate_g": 210.0,
                                "effective_from": "2026-11-20",
                            },
                            "energy_kcal": 1890.0,
                            "within_target": True,
                        },
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def adherence(self, request):
        """Per local day from `start` to `end` (at most 366 days): the target in force (null
        if none), the energy eaten, and `within_target`: the energy is within 10% of the
        target's energy_kcal (null without a target, or for a day after today). `streak` is
        the number of consecutive days within target counted back from the latest day of the
        range (not after today) that has a target; today, still in progress, does not break
        it. Two queries whatever the range."""
        params = AdherenceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = apps.nutrition.selectors.adherence(user=request.user, **params.validated_data)
        body = {**result.__dict__, "days": [day.__dict__ for day in result.days]}
        return Response(AdherenceSerializer(body, context=self.get_serializer_context()).data)
