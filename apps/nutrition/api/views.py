from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.nutrition import selectors, services
from apps.nutrition.api.examples import (
    ADHERENCE_EXAMPLE,
    CHANGE_ENTRY_GRAMS,
    CHANGE_WATER,
    COPIED_ENTRIES,
    COPY_YESTERDAYS_BREAKFAST,
    CREATE_CUSTOM_FOOD,
    ENTRY_EXAMPLE,
    FOOD_EXAMPLE,
    FREQUENT_FOOD_EXAMPLE,
    LOG_COOKED_GRAMS,
    LOG_FOOD_BY_GRAMS,
    LOG_FOOD_BY_PORTION,
    LOG_MEAL_FOR_DINNER,
    LOG_QUICK_ADD,
    LOG_SERVINGS,
    LOG_WATER_FL_OZ,
    LOG_WATER_ML,
    MARK_FAVORITE,
    MEAL_EXAMPLE,
    MEAL_LOGGED,
    PLAN_MEAL,
    PLANNED_DAY_EXAMPLE,
    RECENT_FOOD_EXAMPLE,
    RENAME_FOOD,
    SAVE_MEAL,
    SAVE_RECIPE,
    SET_ALLERGY,
    SET_TARGET_FROM_MONDAY,
    SUMMARY_EXAMPLE,
    TARGET_EXAMPLE,
    WATER_EXAMPLE,
)
from apps.nutrition.api.serializers import (
    AdherenceQuerySerializer,
    AdherenceSerializer,
    DiaryCopySerializer,
    DiaryEntrySerializer,
    DiaryEntryWriteSerializer,
    DiarySummaryQuerySerializer,
    DiarySummarySerializer,
    FoodPreferenceSerializer,
    FoodSearchQuerySerializer,
    FoodSerializer,
    FoodWriteSerializer,
    FrequentFoodSerializer,
    MealLogSerializer,
    MealSerializer,
    MealWriteSerializer,
    NutritionTargetSerializer,
    PlannedDayQuerySerializer,
    PlannedDaySerializer,
    RecentFoodSerializer,
    WarningSerializer,
    WaterEntrySerializer,
)
from apps.nutrition.filters import DiaryEntryFilter, WaterEntryFilter
from apps.nutrition.models import (
    NUTRIENT_FIELDS,
    DiaryEntry,
    Food,
    FoodPreference,
    Meal,
    NutritionTarget,
    WaterEntry,
)
from fithub.api.idempotency import idempotent
from fithub.api.pagination import PageNumberPagination, TimeCursorPagination
from fithub.api.viewsets import OwnedModelViewSet
from fithub.db.statements import fetch_together
from fithub.ops import metrics

WRITES = ["create", "partial_update"]


def _field_codes(serializer_class) -> dict[str, set[str]]:
    fields = get_serializer_fields_with_error_codes(get_flat_serializer_fields(serializer_class()))
    return {field.name: set(field.error_codes) for field in fields}


def query_validation_errors(serializer_class, *, action: str, extra: dict[str, list[str]] | None = None):
    """Document the 400s of a query-parameter serializer on a GET action (the schema only
    knows request bodies and django-filter filters)."""
    codes = {
        name: field_codes - {"null"}
        for name, field_codes in _field_codes(serializer_class).items()
        if name != "non_field_errors"
    }
    for name, more in (extra or {}).items():
        codes.setdefault(name, set()).update(more)

    def decorate(view):
        for name, field_codes in codes.items():
            view = extend_validation_errors(sorted(field_codes), field_name=name, actions=[action])(view)
        return view

    return decorate


def _nutrients(data: dict) -> dict:
    return {name: data.pop(name) for name in NUTRIENT_FIELDS if name in data}


# --- Foods ------------------------------------------------------------------------------


class FoodPagination(PageNumberPagination):
    """20 foods a page by default (`page_size` up to 200): a search box shows the best few,
    and each food carries its portions."""

    page_size = selectors.SEARCH_PAGE_SIZE


@extend_schema(tags=["foods"])
@extend_schema_view(
    list=extend_schema(
        summary="Search foods",
        description="Public foods plus your own, ranked: your favorites first, then the exact name, every word "
        "as a whole word (singular or plural; the last may be half typed), every word at a word start, anywhere, "
        "then typo-tolerant matches (PostgreSQL); within each, generic foods before processed ones (prepared "
        "dishes, brands, breaded) and raw or plain forms before canned, frozen or dried ones. A word of one or "
        "two letters matches word starts only. Foods you dislike come after every other match. "
        "No authentication needed (public foods only then).",
        parameters=[FoodSearchQuerySerializer],
        examples=[FOOD_EXAMPLE],
    ),
    retrieve=extend_schema(summary="Read a food", examples=[FOOD_EXAMPLE]),
    create=extend_schema(
        summary="Create a custom food",
        request=FoodWriteSerializer,
        responses={201: FoodSerializer, 200: FoodSerializer},
        examples=[CREATE_CUSTOM_FOOD, FOOD_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a custom food (past diary entries keep their nutrients; portions keep their ids)",
        request=FoodWriteSerializer,
        responses={200: FoodSerializer},
        examples=[RENAME_FOOD, FOOD_EXAMPLE],
    ),
    destroy=extend_schema(
        summary="Delete a custom food",
        description="A food your diary entries or saved meals use is archived instead: it leaves search, "
        "stays readable by id and in what uses it, and nothing new can use it. Either way: 204.",
    ),
)
@query_validation_errors(FoodSearchQuerySerializer, action="list")
# The service checks the ids of the portions sent against the food's.
@extend_validation_errors(
    ["does_not_exist", "archived", "unique"], field_name="portions.INDEX.id", actions=["create", "partial_update"]
)
class FoodViewSet(OwnedModelViewSet):
    """Foods: the public USDA database (read-only) and the caller's own custom foods."""

    queryset = Food.objects.all()
    has_read_only_rows = True  # a write on a built-in (public) one answers 403
    serializer_class = FoodSerializer
    filter_backends: list = []
    pagination_class = FoodPagination

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return super().get_permissions()

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return FoodWriteSerializer
        return FoodSerializer

    def get_object(self):
        mine = selectors.annotate_preferences(self.get_queryset(), self.request.user)
        food = mine.filter(pk=self._pk()).first() if self._pk() else None
        if food is None:
            if self._pk() and Food.objects.filter(pk=self._pk(), user__isnull=True).exists():
                raise PermissionDenied("Public foods are read-only.")
            get_object_or_404(Food.objects.none())
        self.check_object_permissions(self.request, food)
        return food

    def _pk(self):
        try:
            return serializers.UUIDField().to_internal_value(self.kwargs.get("pk"))
        except serializers.ValidationError:
            return None

    def list(self, request, *args, **kwargs):
        params = FoodSearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        search = {
            "user": request.user,
            "query": params.validated_data.get("search", ""),
            "barcode": params.validated_data.get("barcode", ""),
        }
        paginator = self.paginator
        (_, offset, size), _ = paginator.plan(request, count=lambda: selectors.search_foods(**search).count())
        # Typo tolerance only when nothing matches as typed. The first page asks for the plain
        # matches and learns it from an empty page; a later page, which may just be past the
        # end, asks first.
        typos = offset > 0 and selectors.tolerates_typos(search["query"])
        if typos:
            typos = not selectors.search_foods(**search, typos=False).exists()
        foods = selectors.search_page(**search, typos=typos, offset=offset, size=size)
        if not foods and offset == 0 and selectors.tolerates_typos(search["query"]):
            foods = selectors.search_page(**search, typos=True, offset=offset, size=size)
        page = paginator.page_of(foods)
        data = FoodSerializer(page, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        visible = selectors.with_portions(
            selectors.annotate_preferences(selectors.foods_visible_to(request.user), request.user), archived=True
        )
        food = get_object_or_404(visible, pk=self._pk()) if self._pk() else get_object_or_404(Food.objects.none())
        return Response(FoodSerializer(food, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Foods you logged, the latest logged first",
        description="Each distinct food of your diary once, with your latest entry of it: `last_logged_at` "
        "and its amount (`grams`; `portion` and `quantity` too when it was a portion the food still offers), "
        "to log it again in one tap. Quick-adds and deleted (archived) foods are left out. One query.",
        responses={200: RecentFoodSerializer(many=True)},
        examples=[RECENT_FOOD_EXAMPLE],
    )
    @action(detail=False, methods=["get"])
    def recent(self, request):
        return self._logged_foods(request, "recent", selectors.recent_foods, RecentFoodSerializer)

    @extend_schema(
        summary="Foods you logged most in the last 90 days",
        description=f"The foods of your diary entries eaten in the last {selectors.FREQUENT_FOODS_DAYS} days, "
        "the most logged first (then the latest logged), each with `count` and your latest entry of it as in "
        "`recent`. One query.",
        responses={200: FrequentFoodSerializer(many=True)},
        examples=[FREQUENT_FOOD_EXAMPLE],
    )
    @action(detail=False, methods=["get"])
    def frequent(self, request):
        return self._logged_foods(request, "frequent", selectors.frequent_foods, FrequentFoodSerializer)

    def _logged_foods(self, request, kind, select, serializer_class):
        paginator = self.paginator
        (_, offset, size), _ = paginator.plan(
            request, count=lambda: selectors.logged_foods_count(user=request.user, kind=kind)
        )
        page = paginator.page_of(select(user=request.user, offset=offset, size=size))
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)

    def perform_create(self, serializer):
        serializer.instance = services.create_food(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_food(food=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        if not services.delete_food(food=instance):
            metrics.record_delete(Food)


# --- Food preferences -------------------------------------------------------------------


@extend_validation_errors(["archived"], field_name="food", actions=["create", "update", "partial_update"])
@extend_schema(tags=["foods"])
@extend_schema_view(
    list=extend_schema(summary="Your food preferences"),
    retrieve=extend_schema(summary="Read a food preference"),
    create=extend_schema(
        summary="Set your preference for a food (updates the existing one for that food: 200)",
        responses={201: FoodPreferenceSerializer, 200: FoodPreferenceSerializer},
        examples=[SET_ALLERGY],
    ),
    update=extend_schema(summary="Replace a food preference", examples=[SET_ALLERGY]),
    partial_update=extend_schema(
        summary="Change a food preference",
        examples=[MARK_FAVORITE],
    ),
    destroy=extend_schema(summary="Forget a food preference"),
)
class FoodPreferenceViewSet(OwnedModelViewSet):
    """Favorite, disliked and allergy foods. Search ranks favorites first and disliked foods
    last, and flags allergies; logging an allergy food works but the response carries a warning."""

    queryset = FoodPreference.objects.select_related("food")
    serializer_class = FoodPreferenceSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def created_status(self) -> int:
        return status.HTTP_201_CREATED if self._created else status.HTTP_200_OK

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance, self._created = services.set_preference(user=self.request.user, **data)

    def perform_update(self, serializer):
        food = serializer.validated_data.get("food", serializer.instance.food)
        if food.pk != serializer.instance.food_id:
            services.refuse_archived(food, field="food")
        if (
            food.pk != serializer.instance.food_id
            and FoodPreference.objects.filter(user=self.request.user, food=food).exists()
        ):
            raise serializers.ValidationError({"food": ["You already have a preference for this food."]})
        # PUT replaces the whole preference: a flag left out is off.
        defaults = {} if serializer.partial else {"favorite": False, "dislike": False, "allergy": False}
        serializer.save(**{**defaults, **serializer.validated_data})


# --- Saved meals ------------------------------------------------------------------------


MealLogResultSerializer = inline_serializer(
    "MealLogResult",
    fields={"entries": DiaryEntrySerializer(many=True), "warnings": WarningSerializer(many=True)},
)


DiaryCopyResultSerializer = inline_serializer(
    "DiaryCopyResult",
    fields={"entries": DiaryEntrySerializer(many=True), "warnings": WarningSerializer(many=True)},
)


@extend_schema(tags=["meals"])
@extend_schema_view(
    list=extend_schema(summary="Your saved meals", examples=[MEAL_EXAMPLE]),
    retrieve=extend_schema(summary="Read a saved meal", examples=[MEAL_EXAMPLE]),
    create=extend_schema(
        summary="Save a meal",
        request=MealWriteSerializer,
        responses={201: MealSerializer, 200: MealSerializer},
        examples=[SAVE_MEAL, SAVE_RECIPE, MEAL_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a saved meal (items, when sent, replace the old ones)",
        request=MealWriteSerializer,
        responses={200: MealSerializer},
        examples=[PLAN_MEAL, MEAL_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete a saved meal (diary entries logged from it stay)"),
)
@query_validation_errors(PlannedDayQuerySerializer, action="planned")
@extend_validation_errors(["archived"], field_name="items.INDEX.food", actions=WRITES)
@extend_validation_errors(["no_cooked_weight"], field_name="grams", actions=["log"])
class MealViewSet(OwnedModelViewSet):
    """Saved meals (recipes): foods and grams, with totals; optionally planned on weekdays."""

    queryset = Meal.objects.all()
    serializer_class = MealSerializer
    filter_backends: list = []

    def get_base_queryset(self):
        return selectors.meals()

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return MealWriteSerializer
        return MealSerializer

    def perform_create(self, serializer):
        self._save(serializer, meal=None)

    def entries(self):
        """The caller's diary entries (those a logged meal wrote)."""
        return selectors.diary_entries(user=self.request.user)

    def perform_update(self, serializer):
        self._save(serializer, meal=serializer.instance)

    def _save(self, serializer, meal):
        data = dict(serializer.validated_data)
        meal = services.save_meal(
            user=self.request.user,
            meal=meal,
            items=data.pop("items", None),
            weekdays=data.pop("weekdays", None),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=meal.pk)

    @extend_schema(
        summary="Log a saved meal into the diary: all of it, some servings or grams of the cooked dish",
        request=MealLogSerializer,
        responses={201: MealLogResultSerializer},
        examples=[LOG_MEAL_FOR_DINNER, LOG_SERVINGS, LOG_COOKED_GRAMS, MEAL_LOGGED],
    )
    @action(detail=True, methods=["post"])
    @idempotent(shows=lambda view, body: (view.entries(), [entry["id"] for entry in body["entries"]]))
    def log(self, request, pk=None):
        meal = self.get_object()
        params = MealLogSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = services.log_meal(
            user=request.user,
            meal=meal,
            consumed_at=params.validated_data.get("consumed_at") or timezone.now(),
            slot=params.validated_data.get("meal"),
            **{name: params.validated_data.get(name) for name in MealLogSerializer.AMOUNTS},
        )
        entries = DiaryEntrySerializer(result.entries, many=True, context=self.get_serializer_context()).data
        return Response({"entries": entries, "warnings": result.warnings}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The meals planned on a day, and which were logged",
        parameters=[PlannedDayQuerySerializer],
        responses={200: PlannedDaySerializer},
        examples=[PLANNED_DAY_EXAMPLE],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def planned(self, request):
        params = PlannedDayQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        day = params.validated_data["date"]
        meals = selectors.planned_meals(user=request.user, day=day)
        data = {"date": day, "weekday": selectors.weekday_name(day), "meals": meals}
        return Response(PlannedDaySerializer(data, context=self.get_serializer_context()).data)


# --- Diary ------------------------------------------------------------------------------


class DiaryPagination(TimeCursorPagination):
    ordering = ("-consumed_at", "-id")


@extend_schema(tags=["diary"])
@extend_schema_view(
    list=extend_schema(summary="Your diary entries, newest first", examples=[ENTRY_EXAMPLE]),
    retrieve=extend_schema(summary="Read a diary entry", examples=[ENTRY_EXAMPLE]),
    create=extend_schema(
        summary="Log a food or a quick-add entry",
        request=DiaryEntryWriteSerializer,
        responses={201: DiaryEntrySerializer, 200: DiaryEntrySerializer},
        examples=[LOG_FOOD_BY_GRAMS, LOG_FOOD_BY_PORTION, LOG_QUICK_ADD, ENTRY_EXAMPLE],
    ),
    partial_update=extend_schema(
        summary="Change a diary entry (nutrients are recomputed only when the food or amount changes)",
        request=DiaryEntryWriteSerializer,
        responses={200: DiaryEntrySerializer},
        examples=[CHANGE_ENTRY_GRAMS, ENTRY_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete a diary entry"),
)
@query_validation_errors(DiarySummaryQuerySerializer, action="summary", extra={"end": ["range_too_long"]})
# The service checks the combination (a food or a quick-add, grams or a portion): "invalid";
# and that a food or portion newly referred to is not archived.
@extend_validation_errors(["invalid", "archived"], field_name="food", actions=["create", "partial_update"])
@extend_validation_errors(["invalid", "archived"], field_name="portion", actions=["create", "partial_update"])
# A copy: nothing to copy, too much, a deleted food; copies outside the times the diary takes.
@extend_validation_errors(["empty", "too_many", "archived"], field_name="from_date", actions=["copy"])
@extend_validation_errors(["future", "out_of_range"], field_name="to_date", actions=["copy"])
class DiaryEntryViewSet(OwnedModelViewSet):
    """The food diary. Each entry keeps the nutrients it contributed and its local day in your
    profile's time zone (as it was when written)."""

    queryset = DiaryEntry.objects.all()
    serializer_class = DiaryEntrySerializer
    filterset_class = DiaryEntryFilter
    pagination_class = DiaryPagination

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return DiaryEntryWriteSerializer
        return DiaryEntrySerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        nutrients = _nutrients(data)
        result = services.log_food(user=self.request.user, nutrients=nutrients, **data)
        entry = result.entries[0]
        entry.warnings = result.warnings
        serializer.instance = entry

    def perform_update(self, serializer):
        result = services.update_entry(entry=serializer.instance, data=dict(serializer.validated_data))
        entry = result.entries[0]
        entry.warnings = result.warnings
        serializer.instance = entry

    @extend_schema(
        summary="Copy a day's entries, or one meal's, to another day (one transaction)",
        description=(
            "The copies are new entries (new ids) at the same wall-clock times on `to_date`, in your "
            "profile's time zone as it is now (a time that does not exist that day, in a daylight-saving "
            "gap, is taken with the offset before the change). Foods are logged again with their current "
            "nutrients and the same amount; quick-adds are copied as they were. All or nothing: a day with "
            "a food deleted since is refused (`archived`), a day with nothing to copy too (`empty`). At "
            f"most {services.MAX_COPIED_ENTRIES} entries at once."
        ),
        request=DiaryCopySerializer,
        responses={201: DiaryCopyResultSerializer},
        examples=[COPY_YESTERDAYS_BREAKFAST, COPIED_ENTRIES],
    )
    @action(detail=False, methods=["post"], filterset_class=None, filter_backends=[], pagination_class=None)
    @idempotent(shows=lambda view, body: (view.get_queryset(), [entry["id"] for entry in body["entries"]]))
    def copy(self, request):
        params = DiaryCopySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = services.copy_entries(user=request.user, **params.validated_data)
        entries = DiaryEntrySerializer(result.entries, many=True, context=self.get_serializer_context()).data
        return Response({"entries": entries, "warnings": result.warnings}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Daily totals: one row per local day, by nutrient and by meal",
        parameters=[DiarySummaryQuerySerializer],
        responses={200: DiarySummarySerializer},
        examples=[SUMMARY_EXAMPLE],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None, filter_backends=[])
    def summary(self, request):
        params = DiarySummaryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        # The day sums, the targets in force and the water: three queries, one round trip.
        sums, target_rows, water_rows = fetch_together(
            selectors.daily_sums(user=request.user, start=start, end=end),
            selectors.targets_for_range(user=request.user, start=start, end=end),
            selectors.daily_water(user=request.user, start=start, end=end),
        )
        days = selectors.summarize_days(sums, start=start, end=end)
        targets = selectors.targets_on_days(target_rows, start=start, end=end)
        water = selectors.water_by_day(water_rows)
        for day in days:
            day["water_ml"] = water.get(day["date"], 0.0)
            day["target"] = targets.get(day["date"])
        summary = {"start": start, "end": end, "days": days}
        return Response(DiarySummarySerializer(summary, context=self.get_serializer_context()).data)


@extend_validation_errors(["required", "invalid"], field_name="start", actions=["adherence"])
@extend_validation_errors(["required", "invalid", "range_too_long"], field_name="end", actions=["adherence"])
@extend_schema(tags=["goals"])
@extend_schema_view(
    list=extend_schema(summary="Your nutrition targets, newest effective date first", examples=[TARGET_EXAMPLE]),
    retrieve=extend_schema(summary="Read a nutrition target", examples=[TARGET_EXAMPLE]),
    create=extend_schema(
        summary="Set a nutrition target from a date on",
        examples=[SET_TARGET_FROM_MONDAY, TARGET_EXAMPLE],
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
        serializer.instance = services.set_nutrition_target(user=self.request.user, **serializer.validated_data)

    @extend_schema(
        summary="Adherence to your targets, day by day, and the current streak",
        parameters=[AdherenceQuerySerializer],
        responses={200: AdherenceSerializer},
        examples=[ADHERENCE_EXAMPLE],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def adherence(self, request):
        """Per local day from `start` to `end` (at most 366 days): the target in force (null
        if none), the energy eaten, and `within_target`: the energy is within 10% of the
        target's energy_kcal (null without a target, or for a day after today); the water
        drunk (`water_ml`) and `water_met`: at least the target's water_ml (null also when
        the target sets no water). `streak` is
        the number of consecutive days within target counted back from the latest day of the
        range (not after today) that has a target; today, still in progress, does not break
        it. Three queries in one round trip whatever the range."""
        params = AdherenceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = selectors.adherence(user=request.user, **params.validated_data)
        body = {**result.__dict__, "days": [day.__dict__ for day in result.days]}
        return Response(AdherenceSerializer(body, context=self.get_serializer_context()).data)


# --- Water ------------------------------------------------------------------------------


class WaterPagination(TimeCursorPagination):
    ordering = ("-consumed_at", "-id")


# The service checks the amount in ml (a drink of 1 to 5000 ml, whichever the unit) and that
# `ml` comes without `value` and `unit`.
# (One decorator per field and action: a later one for the same pair replaces the earlier.)
@extend_validation_errors(["invalid", "required"], field_name="ml", actions=["create"])
@extend_validation_errors(["invalid"], field_name="ml", actions=["partial_update"])
@extend_validation_errors(["out_of_range"], field_name="value", actions=["create", "partial_update"])
@extend_schema(tags=["water"])
@extend_schema_view(
    list=extend_schema(summary="Your water entries, newest first", examples=[WATER_EXAMPLE]),
    retrieve=extend_schema(summary="Read a water entry", examples=[WATER_EXAMPLE]),
    create=extend_schema(
        summary="Log a drink of water (ml, or a value in ml or fl_oz)",
        responses={201: WaterEntrySerializer, 200: WaterEntrySerializer},
        examples=[LOG_WATER_ML, LOG_WATER_FL_OZ, WATER_EXAMPLE],
    ),
    partial_update=extend_schema(summary="Change a water entry", examples=[CHANGE_WATER, WATER_EXAMPLE]),
    destroy=extend_schema(summary="Delete a water entry"),
)
class WaterEntryViewSet(OwnedModelViewSet):
    """Water you drank, in ml; entered in ml or US fluid ounces (the unit is kept). Each
    entry's local day is in your profile's time zone (as it was when written); the day
    summary adds them up as `water_ml`."""

    queryset = WaterEntry.objects.all()
    serializer_class = WaterEntrySerializer
    filterset_class = WaterEntryFilter
    pagination_class = WaterPagination

    def perform_create(self, serializer):
        serializer.instance = services.log_water(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_water(entry=serializer.instance, data=dict(serializer.validated_data))
