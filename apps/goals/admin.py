from django.contrib import admin

from apps.goals.models import Goal, NutritionTarget


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "start_value", "target_value", "target_date", "status"]
    list_filter = ["status"]
    list_select_related = ["user", "type"]
    raw_id_fields = ["user", "type"]


@admin.register(NutritionTarget)
class NutritionTargetAdmin(admin.ModelAdmin):
    list_display = ["user", "effective_from", "energy_kcal", "protein_g", "fat_g", "carbohydrate_g"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
