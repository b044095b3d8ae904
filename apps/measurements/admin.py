from django.contrib import admin

from apps.measurements.models import Measurement, MeasurementType


@admin.register(MeasurementType)
class MeasurementTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "unit", "min_value", "max_value", "user"]
    list_filter = [("user", admin.EmptyFieldListFilter)]
    search_fields = ["name", "key"]
    raw_id_fields = ["user"]


@admin.register(Measurement)
class MeasurementAdmin(admin.ModelAdmin):
    list_display = ["user", "type", "value", "entered_value", "entered_unit", "measured_at"]
    list_select_related = ["user", "type"]
    raw_id_fields = ["user", "type"]
    date_hierarchy = "measured_at"
