from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, serializers, status
from rest_framework.exceptions import AuthenticationFailed, ErrorDetail
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.users import registry, services
from apps.users.api.examples import LOG_IN, PROFILE_EXAMPLE, REGISTER, export_example
from apps.users.api.serializers import (
    AccountDeleteSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    RegisterSerializer,
    UserSerializer,
)
from apps.users.api.throttles import LoginAccountThrottle, LoginIPThrottle, RegisterThrottle
from apps.users.audit import record_security_event
from apps.users.models import SecurityEvent, User
from apps.users.selectors import export_user_data

PASSWORD_VALIDATOR_CODES = [
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
    "password_too_similar",
]


@extend_schema(tags=["auth"])
@extend_validation_errors(PASSWORD_VALIDATOR_CODES, field_name="password", methods=["post"])
@extend_validation_errors(["unique"], field_name="email", methods=["post"])
class RegisterView(APIView):
    """Create an account. The password must pass Django's password validators."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegisterThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: UserSerializer},
        examples=[REGISTER, PROFILE_EXAMPLE],
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.register_user(**serializer.validated_data)
        return Response(UserSerializer(user, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"], examples=[LOG_IN])
class LoginView(TokenObtainPairView):
    """Exchange email and password for an `access` token (15 minutes) and a `refresh` token (14 days).

    Throttled per client IP and per account. Every attempt is written to the audit log.
    """

    throttle_classes = [LoginIPThrottle, LoginAccountThrottle]
    checks_credentials = True

    def post(self, request, *args, **kwargs):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        email = email.strip().lower() if isinstance(email, str) else ""
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            record_security_event(kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, email=email)
            raise
        user = User.objects.filter(email=email).first()
        record_security_event(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED, request=request, user=user, email=email)
        return response


@extend_schema(tags=["auth"])
class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token and a new refresh token.

    The refresh token sent is blacklisted: each one works once.
    """

    checks_credentials = True


@extend_schema(tags=["auth"])
@extend_validation_errors(["token_not_valid"], field_name="refresh", methods=["post"])
class LogoutView(APIView):
    """Revoke a refresh token of the caller's. Access tokens expire on their own."""

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = serializer.validated_data["refresh"]
        try:
            owner = str(RefreshToken(token, verify=False).payload.get("user_id"))
        except Exception:
            owner = None
        if owner != str(request.user.pk):
            raise serializers.ValidationError(
                {"refresh": [ErrorDetail("Token is invalid or expired", "token_not_valid")]}
            )
        services.blacklist_refresh_token(token=token)
        record_security_event(kind=SecurityEvent.Kind.LOGOUT, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["users"])
@extend_validation_errors(["invalid"], field_name="password", methods=["delete"])
@extend_validation_errors(["invalid"], field_name="timezone", methods=["patch"])
@extend_schema_view(
    get=extend_schema(summary="Read your profile", examples=[PROFILE_EXAMPLE]),
    patch=extend_schema(summary="Update your profile", examples=[PROFILE_EXAMPLE]),
)
class MeView(generics.RetrieveUpdateAPIView):
    """The caller's own profile. `timezone` decides which local day diary entries fall on."""

    serializer_class = UserSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        services.update_profile(user=self.request.user, data=serializer.validated_data)

    @extend_schema(
        summary="Delete your account and all its data",
        request=AccountDeleteSerializer,
        responses={204: None},
    )
    def delete(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email = request.user.email
        services.delete_account(user=request.user, password=serializer.validated_data["password"])
        record_security_event(kind=SecurityEvent.Kind.ACCOUNT_DELETED, request=request, email=email)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["users"])
@extend_validation_errors(PASSWORD_VALIDATOR_CODES, field_name="new_password", methods=["post"])
@extend_validation_errors(["invalid"], field_name="old_password", methods=["post"])
class PasswordChangeView(APIView):
    """Change the password; the current one is required."""

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.change_password(user=request.user, **serializer.validated_data)
        record_security_event(kind=SecurityEvent.Kind.PASSWORD_CHANGED, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# The lists the apps contribute (registered in their ready(), before any URLconf is loaded).
EXPORT_LISTS = [section.name for section in registry.export_sections()]

UserExportSerializer = inline_serializer(
    "UserExport",
    fields={
        "format": serializers.CharField(),
        "version": serializers.IntegerField(),
        "exported_at": serializers.DateTimeField(),
        "profile": UserSerializer(),
        **{name: serializers.ListField(child=serializers.DictField()) for name in EXPORT_LISTS},
    },
)


@extend_schema(tags=["users"])
class ExportView(APIView):
    """All of your data as one JSON document (data portability): the profile and one list
    per kind of row you own. Quantities are metric; times are UTC."""

    @extend_schema(
        summary="Export all your data",
        responses={200: UserExportSerializer},
        examples=[export_example(EXPORT_LISTS)],
    )
    def get(self, request):
        data = export_user_data(user=request.user)
        data["profile"] = UserSerializer(request.user, context={"request": request}).data
        response = Response(data)
        response["Content-Disposition"] = 'attachment; filename="fithub-export.json"'
        return response
