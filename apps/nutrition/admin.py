from django.contrib import admin

from apps.nutrition.models import DiaryEntry, Food, FoodPortion, FoodPreference, Meal, MealItem, NutritionTarget


class FoodPortionInline(admin.TabularInline):
    model = FoodPortion
    extra = 0
    fields = ["seq", "description", "grams"]


@admin.register(Food)
class FoodAdmin(admin.ModelAdmin):
    """Curate the public food database (and see users' custom foods)."""

    list_display = ["name", "brand", "food_group", "source", "source_id", "barcode", "energy_kcal", "user"]
    list_filter = ["source", "food_group"]
    search_fields = ["name", "brand", "barcode", "source_id"]
    ordering = ["name"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [FoodPortionInline]
    show_full_result_count = False


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
