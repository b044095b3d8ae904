from functools import partial

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view, inline_serializer
from drf_standardized_errors.openapi_utils import get_flat_serializer_fields, get_serializer_fields_with_error_codes
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.nutrition import selectors, services
from apps.nutrition.api.serializers import (
    DiaryEntrySerializer,
    DiaryEntryWriteSerializer,
    DiarySummaryQuerySerializer,
    DiarySummarySerializer,
    FoodPreferenceSerializer,
    FoodSearchQuerySerializer,
    FoodSerializer,
    FoodWriteSerializer,
    MealLogSerializer,
    MealSerializer,
    MealWriteSerializer,
    PlannedDayQuerySerializer,
    PlannedDaySerializer,
    TargetInForceSerializer,
    WarningSerializer,
)
from apps.nutrition.filters import DiaryEntryFilter
from apps.nutrition.models import NUTRIENT_FIELDS, DiaryEntry, Food, FoodPreference, Meal
from fithub.api.idempotency import idempotent
from fithub.api.pagination import MAX_ROWS, TimeCursorPagination, WindowCountPagination
from fithub.api.viewsets import OwnedModelViewSet
from fithub.db.statements import fetch_together

FOOD_ID = "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d"
FOOD_EXAMPLE = OpenApiExample(
    "A public food",
    value={
        "id": FOOD_ID,
        "name": "Chicken, broilers or fryers, breast, meat and skin, raw",
        "brand": "",
        "barcode": "",
        "food_group": "Poultry Products",
        "source": "usda",
        "source_id": "05057",
        "is_public": True,
        "energy_kcal": 172.0,
        "protein_g": 20.85,
        "fat_g": 9.25,
        "carbohydrate_g": 0.0,
        "fiber_g": 0.0,
        "sugars_g": 0.0,
        "saturated_fat_g": 2.66,
        "sodium_mg": 63.0,
        "portions": [{"id": 4391, "description": "1 oz", "grams": 28.35}],
        "is_favorite": False,
        "is_allergen": False,
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z",
    },
    response_only=True,
)
ENTRY_EXAMPLE = OpenApiExample(
    "A logged food",
    value={
        "id": "0193a1c3-1111-7a3b-8c4d-2e1f0a9b8c7d",
        "food": FOOD_ID,
        "portion": None,
        "quantity": None,
        "grams": 150.0,
        "label": "Chicken, broilers or fryers, breast, meat and skin, raw",
        "meal": "dinner",
        "consumed_at": "2026-11-21T19:30:00-08:00",
        "local_date": "2026-11-21",
        "saved_meal": None,
        "energy_kcal": 258.0,
        "protein_g": 31.28,
        "fat_g": 13.88,
        "carbohydrate_g": 0.0,
        "fiber_g": 0.0,
        "sugars_g": 0.0,
        "saturated_fat_g": 3.99,
        "sodium_mg": 94.5,
        "warnings": [],
        "created_at": "2026-11-22T03:31:00Z",
        "updated_at": "2026-11-22T03:31:00Z",
    },
    response_only=True,
)
MEAL_EXAMPLE = OpenApiExample(
    "A saved meal",
    value={
        "id": "0193a1c4-2222-7a3b-8c4d-2e1f0a9b8c7d",
        "name": "Chicken and rice",
        "slot": "lunch",
        "weekdays": ["monday", "wednesday"],
        "items": [{"id": 1, "food": FOOD_ID, "food_name": "Chicken, broilers ... raw", "grams": 150.0}],
        "total_grams": 150.0,
        "totals": {
            "energy_kcal": 258.0,
            "protein_g": 31.28,
            "fat_g": 13.88,
            "carbohydrate_g": 0.0,
            "fiber_g": 0.0,
            "sugars_g": 0.0,
            "saturated_fat_g": 3.99,
            "sodium_mg": 94.5,
        },
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z",
    },
    response_only=True,
)
MACROS = {"energy_kcal": 0.0, "protein_g": 0.0, "fat_g": 0.0, "carbohydrate_g": 0.0}


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


def flat_item_errors(serializer_class, *, list_field: str, attr: str, actions: list[str]):
    """Document the per-item codes that FlatErrorsListSerializer/-Field report on `attr`
    (the list itself) instead of `list_field.INDEX.field`."""
    prefix = f"{list_field}.INDEX"
    codes = set().union(
        *(field_codes for name, field_codes in _field_codes(serializer_class).items() if name.startswith(prefix))
    )
    return extend_validation_errors(sorted(codes), field_name=attr, actions=actions)


def _nutrients(data: dict) -> dict:
    return {name: data.pop(name) for name in NUTRIENT_FIELDS if name in data}


# --- Foods ------------------------------------------------------------------------------


class FoodPagination(WindowCountPagination):
    """20 foods a page by default (`page_size` up to 200): a search box shows the best few,
    and each food carries its portions."""

    page_size = 20


@extend_schema(tags=["foods"])
@extend_schema_view(
    list=extend_schema(
        summary="Search foods",
        description="Public foods plus your own, ranked: your favorites, exact name, prefix, every word, "
        "then typo-tolerant matches (PostgreSQL). No authentication needed (public foods only then).",
        parameters=[FoodSearchQuerySerializer],
        examples=[FOOD_EXAMPLE],
    ),
    retrieve=extend_schema(summary="Read a food", examples=[FOOD_EXAMPLE]),
    create=extend_schema(
        summary="Create a custom food",
        request=FoodWriteSerializer,
        responses={201: FoodSerializer, 200: FoodSerializer},
        examples=[
            OpenApiExample(
                "A custom food",
                value={
                    "name": "Grandma's granola",
                    "barcode": "4006381333931",
                    "energy_kcal": 471,
                    "protein_g": 10.2,
                    "fat_g": 20.1,
                    "carbohydrate_g": 61.5,
                    "portions": [{"description": "1 bowl", "grams": 60}],
                },
                request_only=True,
            ),
            FOOD_EXAMPLE,
        ],
    ),
    partial_update=extend_schema(
        summary="Change a custom food (past diary entries keep their nutrients)",
        request=FoodWriteSerializer,
        responses={200: FoodSerializer},
        examples=[OpenApiExample("Rename", value={"name": "Granola"}, request_only=True), FOOD_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete a custom food"),
)
@query_validation_errors(FoodSearchQuerySerializer, action="list")
@flat_item_errors(
    FoodWriteSerializer, list_field="portions", attr="portions.non_field_errors", actions=["create", "partial_update"]
)
class FoodViewSet(OwnedModelViewSet):
    """Foods: the public USDA database (read-only) and the caller's own custom foods."""

    queryset = Food.objects.all()
    serializer_class = FoodSerializer
    filter_backends: list = []
    # Search pages carry their count in the page query (the ranking sorts every match anyway).
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
        # The first page, most searches' only one, runs SQL compiled once per shape of search,
        # asks for the plain matches straight away (no EXISTS probe) and turns to typo
        # tolerance only when there are none; later pages let the selector probe.
        page_number = self._page_number(request)
        if page_number == 1:
            page = self.paginator.first_page(partial(selectors.first_search_page, **search, typos=False), request)
            if not page and selectors.tolerates_typos(search["query"]):
                page = self.paginator.first_page(partial(selectors.first_search_page, **search, typos=True), request)
        else:
            reads = page_number * self.paginator.get_page_size(request) if page_number else None
            if reads is not None and reads > MAX_ROWS:
                reads = None  # a page past any row: the paginator answers 404
            page = self.paginate_queryset(selectors.search_foods(**search, reads=reads))
        return self.get_paginated_response(FoodSerializer(page, many=True, context=self.get_serializer_context()).data)

    def _page_number(self, request) -> int | None:
        """The page asked for, None when it is not a positive number (`last`, or the 404 to come)."""
        try:
            number = int(request.query_params.get(self.paginator.page_query_param) or 1)
        except ValueError:
            return None
        return number if number >= 1 else None

    def retrieve(self, request, *args, **kwargs):
        visible = selectors.with_portions(
            selectors.annotate_preferences(selectors.foods_visible_to(request.user), request.user)
        )
        food = get_object_or_404(visible, pk=self._pk()) if self._pk() else get_object_or_404(Food.objects.none())
        return Response(FoodSerializer(food, context=self.get_serializer_context()).data)

    def perform_create(self, serializer):
        serializer.instance = services.create_food(user=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_food(food=serializer.instance, **serializer.validated_data)


# --- Food preferences -------------------------------------------------------------------


PREFERENCE_EXAMPLE = OpenApiExample(
    "An allergy",
    value={"food": FOOD_ID, "favorite": False, "dislike": False, "allergy": True},
    request_only=True,
)


@extend_schema(tags=["foods"])
@extend_schema_view(
    list=extend_schema(summary="Your food preferences"),
    retrieve=extend_schema(summary="Read a food preference"),
    create=extend_schema(
        summary="Set your preference for a food (updates the existing one for that food: 200)",
        responses={201: FoodPreferenceSerializer, 200: FoodPreferenceSerializer},
        examples=[PREFERENCE_EXAMPLE],
    ),
    update=extend_schema(summary="Replace a food preference", examples=[PREFERENCE_EXAMPLE]),
    partial_update=extend_schema(
        summary="Change a food preference",
        examples=[OpenApiExample("Favorite", value={"favorite": True}, request_only=True)],
    ),
    destroy=extend_schema(summary="Forget a food preference"),
)
class FoodPreferenceViewSet(OwnedModelViewSet):
    """Favorite, disliked and allergy foods. Search ranks favorites first and flags allergies;
    logging an allergy food works but the response carries a warning."""

    queryset = FoodPreference.objects.select_related("food")
    serializer_class = FoodPreferenceSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        self._created = True
        response = super().create(request, *args, **kwargs)
        if response.status_code == status.HTTP_201_CREATED and not self._created:
            response.status_code = status.HTTP_200_OK
        return response

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance, self._created = services.set_preference(user=self.request.user, **data)

    def perform_update(self, serializer):
        food = serializer.validated_data.get("food", serializer.instance.food)
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


@extend_schema(tags=["meals"])
@extend_schema_view(
    list=extend_schema(summary="Your saved meals", examples=[MEAL_EXAMPLE]),
    retrieve=extend_schema(summary="Read a saved meal", examples=[MEAL_EXAMPLE]),
    create=extend_schema(
        summary="Save a meal",
        request=MealWriteSerializer,
        responses={201: MealSerializer, 200: MealSerializer},
        examples=[
            OpenApiExample(
                "Chicken and rice",
                value={
                    "name": "Chicken and rice",
                    "slot": "lunch",
                    "weekdays": ["monday", "wednesday"],
                    "items": [{"food": FOOD_ID, "grams": 150}],
                },
                request_only=True,
            ),
            MEAL_EXAMPLE,
        ],
    ),
    partial_update=extend_schema(
        summary="Change a saved meal (items, when sent, replace the old ones)",
        request=MealWriteSerializer,
        responses={200: MealSerializer},
        examples=[OpenApiExample("Plan", value={"weekdays": ["friday"]}, request_only=True), MEAL_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete a saved meal (diary entries logged from it stay)"),
)
@query_validation_errors(PlannedDayQuerySerializer, action="planned")
@flat_item_errors(MealWriteSerializer, list_field="items", attr="items.non_field_errors", actions=WRITES)
@flat_item_errors(MealWriteSerializer, list_field="weekdays", attr="weekdays", actions=WRITES)
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
        summary="Log every item of a saved meal into the diary (one transaction)",
        request=MealLogSerializer,
        responses={201: MealLogResultSerializer},
        examples=[
            OpenApiExample("Log it for dinner", value={"consumed_at": "2026-11-21T19:30:00-08:00", "meal": "dinner"})
        ],
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def log(self, request, pk=None):
        meal = self.get_object()
        params = MealLogSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = services.log_meal(
            user=request.user,
            meal=meal,
            consumed_at=params.validated_data.get("consumed_at") or timezone.now(),
            slot=params.validated_data.get("meal"),
            scale=params.validated_data["scale"],
        )
        entries = DiaryEntrySerializer(result.entries, many=True, context=self.get_serializer_context()).data
        return Response({"entries": entries, "warnings": result.warnings}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The meals planned on a day, and which were logged",
        parameters=[PlannedDayQuerySerializer],
        responses={200: PlannedDaySerializer},
        examples=[
            OpenApiExample(
                "Monday",
                value={"date": "2026-11-23", "weekday": "monday", "meals": []},
                response_only=True,
            )
        ],
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
        examples=[
            OpenApiExample(
                "150 g of a food",
                value={"food": FOOD_ID, "grams": 150, "meal": "dinner", "consumed_at": "2026-11-21T19:30:00-08:00"},
                request_only=True,
            ),
            OpenApiExample(
                "Two portions",
                value={
                    "food": FOOD_ID,
                    "portion": 4391,
                    "quantity": 2,
                    "meal": "lunch",
                    "consumed_at": "2026-11-21T12:30:00+01:00",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Quick-add",
                value={
                    "label": "Burrito at Luisa's",
                    "energy_kcal": 850,
                    "protein_g": 38,
                    "fat_g": 30,
                    "carbohydrate_g": 104,
                    "meal": "lunch",
                    "consumed_at": "2026-11-21T12:30:00+01:00",
                },
                request_only=True,
            ),
            ENTRY_EXAMPLE,
        ],
    ),
    partial_update=extend_schema(
        summary="Change a diary entry (its nutrients are recomputed)",
        request=DiaryEntryWriteSerializer,
        responses={200: DiaryEntrySerializer},
        examples=[OpenApiExample("More", value={"grams": 200}, request_only=True), ENTRY_EXAMPLE],
    ),
    destroy=extend_schema(summary="Delete a diary entry"),
)
@query_validation_errors(DiarySummaryQuerySerializer, action="summary", extra={"end": ["range_too_long"]})
# The service checks the combination (a food or a quick-add, grams or a portion): "invalid".
@extend_validation_errors(["invalid"], field_name="food", actions=["create", "partial_update"])
@extend_validation_errors(["invalid"], field_name="portion", actions=["create", "partial_update"])
class DiaryEntryViewSet(OwnedModelViewSet):
    """The food diary. Each entry keeps the nutrients it contributed and its local day in your
    profile's time zone (as it was when written)."""

    queryset = DiaryEntry.objects.all()
    serializer_class = DiaryEntrySerializer
    filterset_class = DiaryEntryFilter
    pagination_class = DiaryPagination
    compiled_first_page = True

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
        summary="Daily totals: one row per local day, by nutrient and by meal",
        parameters=[DiarySummaryQuerySerializer],
        responses={200: DiarySummarySerializer},
        examples=[
            OpenApiExample(
                "One day",
                value={
                    "start": "2026-11-21",
                    "end": "2026-11-21",
                    "days": [
                        {
                            "date": "2026-11-21",
                            "entry_count": 1,
                            "totals": {
                                "energy_kcal": 258.0,
                                "protein_g": 31.28,
                                "fat_g": 13.88,
                                "carbohydrate_g": 0.0,
                                "fiber_g": 0.0,
                                "sugars_g": 0.0,
                                "saturated_fat_g": 3.99,
                                "sodium_mg": 94.5,
                            },
                            "by_meal": {
                                "breakfast": MACROS,
                                "lunch": MACROS,
                                "dinner": {
                                    "energy_kcal": 258.0,
                                    "protein_g": 31.28,
                                    "fat_g": 13.88,
                                    "carbohydrate_g": 0.0,
                                },
                                "snack": MACROS,
                            },
                            "target": None,
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None, filter_backends=[])
    def summary(self, request):
        params = DiarySummaryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        # The day sums and the targets in force: two queries, one round trip.
        sums, target_rows = fetch_together(
            selectors.daily_sums(user=request.user, start=start, end=end),
            selectors.targets_for_range(user=request.user, start=start, end=end),
        )
        days = selectors.summarize_days(sums, start=start, end=end)
        targets = selectors.targets_on_days(target_rows, start=start, end=end)
        # The selector's rows are already DiarySummarySerializer's representation (the schema
        # documents that serializer; tests check the answers against it): only the dates and
        # the few distinct targets need representing, so it is not run row by row.
        represented: dict = {}
        for day in days:
            target = targets.get(day["date"])
            if target is not None and target.pk not in represented:
                represented[target.pk] = TargetInForceSerializer(target).data
            day["target"] = None if target is None else represented[target.pk]
            day["date"] = day["date"].isoformat()
        return Response({"start": start.isoformat(), "end": end.isoformat(), "days": days})
