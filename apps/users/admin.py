from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db import transaction

from apps.users import services
from apps.users.models import SecurityEvent, User
from fithub.models import Session


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class SessionInline(admin.TabularInline):
    """The account's sessions, read-only: they end through the API or the account's state."""

    model = Session
    fields = ["created_at", "last_used_at", "ip", "user_agent", "ended_at", "end_reason"]
    readonly_fields = fields
    ordering = ["-last_used_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Deactivating or deleting an account here ends its sessions, as the API does."""

    add_form = UserCreationForm
    form = UserEditForm
    ordering = ["email"]
    list_display = ["email", "display_name", "timezone", "is_staff", "created_at"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            "Profile",
            {"fields": ["display_name", "sex", "birth_date", "height_cm", "activity_level", "timezone", "unit_system"]},
        ),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [SessionInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and not obj.is_active:
            services.deactivate_account(user=obj)

    def delete_model(self, request, obj):
        services.remove_account(user=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for user in queryset:
            services.remove_account(user=user)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The audit log, read-only: events are written by the API, never edited."""

    list_display = ["created_at", "kind", "email", "ip", "user_agent"]
    list_filter = ["kind"]
    search_fields = ["email", "ip"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
