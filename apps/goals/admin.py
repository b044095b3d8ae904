from django.contrib import admin

from apps.goals.models import Goal


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "start_value", "target_value", "target_date", "status"]
    list_filter = ["status"]
    list_select_related = ["user", "type"]
    raw_id_fields = ["user", "type"]
