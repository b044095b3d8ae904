from rest_framework import serializers

from apps.users.models import User


class UserSerializer(serializers.ModelSerializer):
    """The user's profile. Heights are centimetres; the email is changed by support only."""

    age = serializers.IntegerField(read_only=True, allow_null=True, help_text="Whole years, from birth_date.")

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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "email", "created_at", "updated_at"]

    def validate_birth_date(self, value):
        if value is not None and value > self.context["request"].user.local_today():
            raise serializers.ValidationError("The birth date is in the future.", code="invalid")
        return value


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048, help_text="The refresh token to revoke.")
