from django.contrib import admin, messages

from apps.nutrition import selectors, services
from apps.nutrition.models import (
    DiaryEntry,
    Food,
    FoodPortion,
    FoodPreference,
    Meal,
    MealItem,
    NutritionTarget,
    WaterEntry,
)


class FoodPortionInline(admin.TabularInline):
    """A food's portions. One that diary entries use cannot be deleted here (the admin says
    which entries): the API archives it when a custom food's list leaves it out."""

    model = FoodPortion
    extra = 0
    fields = ["position", "seq", "description", "grams", "archived_at"]
    readonly_fields = ["archived_at"]


@admin.register(Food)
class FoodAdmin(admin.ModelAdmin):
    """Curate the public food database (and see users' custom foods).

    Deleting a food that diary entries or saved meals use archives it instead, as the API
    does: it leaves search, and the meals and entries keep it."""

    list_display = [
        "name", "brand", "food_group", "source", "source_id", "barcode", "energy_kcal", "user", "archived_at"
    ]  # fmt: skip
    list_filter = ["source", ("archived_at", admin.EmptyFieldListFilter), "food_group"]
    search_fields = ["name", "brand", "barcode", "source_id"]
    ordering = ["name"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["archived_at", "created_at", "updated_at"]
    inlines = [FoodPortionInline]
    show_full_result_count = False

    def get_deleted_objects(self, objs, request):
        """What the confirmation page lists: foods in use are said to be archived, and what
        uses them does not stop the deletion of the others."""
        objs = list(objs)
        used = selectors.foods_in_use(objs)
        free = [food for food in objs if food.pk not in used]
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(free, request)
        note = "archived, not deleted: diary entries or saved meals use it"
        kept = [f"{food} ({note})" for food in objs if food.pk in used]
        return [*kept, *deleted], model_count, perms_needed, protected

    def delete_model(self, request, obj):
        self._delete([obj], request)

    def delete_queryset(self, request, queryset):
        self._delete(list(queryset), request)

    def _delete(self, foods, request) -> None:
        archived = [food for food in foods if services.delete_food(food=food)]
        if archived:
            names = ", ".join(str(food) for food in archived)
            message = f"Archived rather than deleted, as diary entries or saved meals use them: {names}."
            self.message_user(request, message, messages.WARNING)


class MealItemInline(admin.TabularInline):
    model = MealItem
    extra = 0
    raw_id_fields = ["food"]


@admin.register(Meal)
class MealAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "slot", "planned_weekdays", "created_at"]
    search_fields = ["name", "user__email"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    inlines = [MealItemInline]


@admin.register(DiaryEntry)
class DiaryEntryAdmin(admin.ModelAdmin):
    list_display = ["local_date", "meal", "label", "grams", "energy_kcal", "user"]
    list_filter = ["meal"]
    search_fields = ["label", "user__email"]
    date_hierarchy = "local_date"
    raw_id_fields = ["user", "food", "portion", "saved_meal"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(FoodPreference)
class FoodPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "food", "favorite", "dislike", "allergy"]
    list_filter = ["favorite", "dislike", "allergy"]
    search_fields = ["user__email", "food__name"]
    raw_id_fields = ["user", "food"]
    list_select_related = ["user", "food"]


@admin.register(NutritionTarget)
class NutritionTargetAdmin(admin.ModelAdmin):
    list_display = ["user", "effective_from", "energy_kcal", "protein_g", "fat_g", "carbohydrate_g"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(WaterEntry)
class WaterEntryAdmin(admin.ModelAdmin):
    list_display = ["local_date", "ml", "entered_value", "entered_unit", "user"]
    search_fields = ["user__email"]
    date_hierarchy = "local_date"
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
