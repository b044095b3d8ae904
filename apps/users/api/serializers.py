from django.contrib.auth import authenticate
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.settings import api_settings

from apps.users import registry
from apps.users.models import User
from apps.users.selectors import export_columns
from fithub import bounds
from fithub.api.fields import BirthDateField, RoundedDecimalField
from fithub.api.serializers import StrictJSONTypes
from fithub.api.tokens import SESSION_CLAIM
from fithub.models import Session


class UserSerializer(StrictJSONTypes, serializers.ModelSerializer):
    """The user's profile. Heights are centimetres; the email is changed by support only."""

    height_cm = RoundedDecimalField(
        max_digits=5, decimal_places=1, min_value=bounds.HEIGHT_CM[0], max_value=bounds.HEIGHT_CM[1],
        required=False, allow_null=True, help_text="Height in centimetres (30-300).",
    )  # fmt: skip
    birth_date = BirthDateField(required=False, allow_null=True, help_text="In your local calendar.")
    age = serializers.IntegerField(read_only=True, allow_null=True, help_text="Whole years, from birth_date.")
    bmi = serializers.SerializerMethodField(help_text="From the latest weight and height_cm; null without them.")
    bmr_kcal = serializers.SerializerMethodField(
        help_text="Basal metabolic rate (Mifflin-St Jeor): needs sex, birth_date, height_cm and a weight."
    )
    tdee_kcal = serializers.SerializerMethodField(help_text="bmr_kcal times the activity_level factor (1.2 to 1.9).")

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "sex",
            "birth_date",
            "height_cm",
            "activity_level",
            "timezone",
            "unit_system",
            "age",
            "bmi",
            "bmr_kcal",
            "tdee_kcal",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "email", "version", "created_at", "updated_at"]

    def _metrics(self, user: User) -> registry.BodyMetrics:
        # One query (the latest weight) for the three fields.
        cache = self.__dict__.setdefault("_body_metrics", {})
        if user.pk not in cache:
            cache[user.pk] = registry.body_metrics(user=user)
        return cache[user.pk]

    def to_representation(self, instance):
        self.__dict__.pop("_body_metrics", None)  # the profile may just have changed
        return super().to_representation(instance)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_bmi(self, user: User):
        value = self._metrics(user).bmi
        return None if value is None else float(value)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_bmr_kcal(self, user: User):
        return self._metrics(user).bmr_kcal

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_tdee_kcal(self, user: User):
        return self._metrics(user).tdee_kcal


class RegisterSerializer(StrictJSONTypes):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PasswordChangeSerializer(StrictJSONTypes):
    old_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class LoginSerializer(StrictJSONTypes):
    """Email and password; `user` is the account they prove, once valid."""

    email = serializers.CharField(max_length=254, write_only=True)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})

    def validate(self, attrs):
        self.user = authenticate(self.context.get("request"), email=attrs["email"], password=attrs["password"])
        if not api_settings.USER_AUTHENTICATION_RULE(self.user):
            raise exceptions.AuthenticationFailed(
                "No active account found with the given credentials", code="no_active_account"
            )
        return attrs


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="Send as `Authorization: Bearer <access>` (15 minutes).")
    refresh = serializers.CharField(
        read_only=True, help_text="Exchange it at /api/v1/auth/token/refresh/ for the next pair (14 days, works once)."
    )


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048, write_only=True)


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(
        max_length=2048,
        required=False,
        help_text="Optional: the session's refresh token. When sent, it must be one of this session's.",
    )


class SessionSerializer(serializers.ModelSerializer):
    """A signed-in device: one per login, kept through its token refreshes."""

    current = serializers.SerializerMethodField(
        help_text="Whether this is the session of the token making the request."
    )

    class Meta:
        model = Session
        fields = ["id", "created_at", "last_used_at", "ip", "user_agent", "current"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_current(self, session: Session) -> bool:
        token = getattr(self.context.get("request"), "auth", None)
        return token is not None and str(token.get(SESSION_CLAIM)) == str(session.pk)


class _ExportRowSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            if isinstance(field, serializers.CharField) and self.Meta.model._meta.get_field(name).blank:
                field.allow_blank = True  # "" may be stored; DRF drops allow_blank of read-only fields
        return fields


def export_row_serializer(model: type[models.Model]) -> type[serializers.Serializer]:
    """The serializer that documents a row of an export section of `model` (`Export<Model>` in
    the schema): the columns `apps.users.selectors.export_columns` lists, typed as the model
    field's API field (a foreign key as its `_id`, typed as the key it holds). Read-only: the
    export is never sent back."""
    mapping = serializers.ModelSerializer.serializer_field_mapping
    fields = {}
    for column in export_columns(model):
        if column.is_relation:
            target = column.target_field
            fields[column.attname] = mapping[type(target)](read_only=True, allow_null=column.null)
    names = [column.name for column in export_columns(model) if not column.is_relation]
    meta = type("Meta", (), {"model": model, "fields": [*names, *fields], "read_only_fields": names})
    return type(
        f"Export{model.__name__}Serializer",
        (_ExportRowSerializer,),
        {
            "__module__": __name__,
            "__doc__": f"A row of {model._meta.verbose_name_plural} as the export lists it.",
            "Meta": meta,
            **fields,
        },
    )
