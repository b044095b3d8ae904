import uuid

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, ErrorDetail
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken

from apps.users import registry, selectors, services
from apps.users.api.examples import (
    CHANGE_PASSWORD,
    LOG_IN,
    LOG_OUT,
    PROFILE_EXAMPLE,
    REFRESH_REQUEST,
    REGISTER,
    SESSION_EXAMPLE,
    TOKEN_PAIR,
    export_example,
)
from apps.users.api.serializers import (
    AccountDeleteSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    SessionSerializer,
    TokenPairSerializer,
    UserSerializer,
    export_row_serializer,
)
from apps.users.api.throttles import LoginAccountThrottle, LoginIPThrottle, RegisterThrottle
from apps.users.audit import client_ip, record_security_event
from apps.users.models import SecurityEvent
from apps.users.selectors import export_user_data
from fithub.api.tokens import SESSION_CLAIM
from fithub.api.viewsets import OwnedViewSetMixin
from fithub.db.router import pin_current_context_to_primary
from fithub.models import Session

PASSWORD_VALIDATOR_CODES = [
    "password_too_short",
    "password_too_common",
    "password_entirely_numeric",
    "password_too_similar",
]


def _user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")


def _submitted_email(request) -> str:
    email = request.data.get("email") if isinstance(request.data, dict) else None
    return email.strip().lower() if isinstance(email, str) else ""


def current_session_id(request) -> uuid.UUID:
    """The session of the access token that authenticated the request."""
    return uuid.UUID(str(request.auth[SESSION_CLAIM]))


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
        record_security_event(kind=SecurityEvent.Kind.REGISTERED, request=request, user=user)
        return Response(UserSerializer(user, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CredentialsView(APIView):
    """A view that checks credentials itself (no authentication classes): a refusal is a 401
    with a Bearer challenge, as simplejwt's token views answer, not DRF's 403."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    checks_credentials = True

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


@extend_schema(tags=["auth"])
class LoginView(CredentialsView):
    """Exchange email and password for an `access` token (15 minutes) and a `refresh` token (14 days).

    Each login starts a session (see `/api/v1/auth/sessions/`); both tokens carry its id.
    Throttled per client IP and per account. Every attempt is written to the audit log, and
    so is the first attempt a throttle refuses in each of its windows.
    """

    throttle_classes = [LoginIPThrottle, LoginAccountThrottle]

    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer}, examples=[LOG_IN, TOKEN_PAIR])
    def post(self, request):
        email = _submitted_email(request)
        serializer = LoginSerializer(data=request.data, context={"request": request})
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            record_security_event(kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, email=email)
            raise
        user = serializer.user
        pair = services.start_session(user=user, ip=client_ip(request), user_agent=_user_agent(request))
        record_security_event(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED, request=request, user=user, email=email)
        return Response(TokenPairSerializer(pair).data)

    def get_throttles(self):
        self.throttles = super().get_throttles()
        return self.throttles

    def throttled(self, request, wait):
        if any(getattr(throttle, "refused_first", False) for throttle in getattr(self, "throttles", ())):
            email = _submitted_email(request)
            record_security_event(kind=SecurityEvent.Kind.LOGIN_THROTTLED, request=request, email=email)
        super().throttled(request, wait)


@extend_schema(tags=["auth"])
class RefreshView(CredentialsView):
    """Exchange a refresh token for the session's next pair: a new access token and a new
    refresh token. The refresh token sent stops working.

    Sending it again within 30 seconds answers the same new pair again (a retry that lost
    the response). Later, sending it again is a reuse: the whole session ends (its newer
    tokens too, whoever holds them), the event is written to the audit log, and the answer
    is 401.
    """

    @extend_schema(
        request=RefreshSerializer, responses={200: TokenPairSerializer}, examples=[REFRESH_REQUEST, TOKEN_PAIR]
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            pair = services.refresh_session(
                refresh=serializer.validated_data["refresh"], ip=client_ip(request), user_agent=_user_agent(request)
            )
        except services.RefreshRefused as refused:
            if refused.reused_by is not None:
                record_security_event(kind=SecurityEvent.Kind.REFRESH_REUSED, request=request, user=refused.reused_by)
            raise InvalidToken(refused.detail) from None
        return Response(TokenPairSerializer(pair).data)


@extend_schema(tags=["auth"])
@extend_validation_errors(["token_not_valid"], field_name="refresh", methods=["post"])
class LogoutView(APIView):
    """End the current session: its refresh token and its access tokens (this one too) are
    refused from now on. The account's other sessions go on."""

    @extend_schema(request=LogoutSerializer, responses={204: None}, examples=[LOG_OUT])
    def post(self, request):
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session_id = current_session_id(request)
        token = serializer.validated_data.get("refresh")
        if token is not None and not services.refresh_token_of_session(token=token, session_id=session_id):
            raise serializers.ValidationError(
                {"refresh": [ErrorDetail("Token is invalid or expired", "token_not_valid")]}
            )
        services.end_session(user=request.user, session_id=session_id, reason=Session.EndReason.LOGOUT)
        record_security_event(kind=SecurityEvent.Kind.LOGOUT, request=request, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
@extend_schema_view(
    list=extend_schema(summary="List your sessions", examples=[SESSION_EXAMPLE]),
    destroy=extend_schema(summary="End a session"),
)
class SessionViewSet(OwnedViewSetMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your sessions: one per login, on each device, kept through its token refreshes.

    `last_used_at`, `ip` and `user_agent` are those of the last login or refresh (a device
    in use refreshes at least every 15 minutes). Ending a session refuses its refresh token
    and its access tokens at once. Read on the primary: a replica could still show a
    session that has just ended.
    """

    queryset = Session.objects.all()
    serializer_class = SessionSerializer
    client_chosen_ids = False

    def get_base_queryset(self):
        return selectors.live_sessions()

    def initial(self, request, *args, **kwargs):
        pin_current_context_to_primary()
        super().initial(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.end_session(user=self.request.user, session_id=instance.pk, reason=Session.EndReason.REVOKED)
        record_security_event(kind=SecurityEvent.Kind.SESSION_REVOKED, request=self.request, user=self.request.user)

    @extend_schema(summary="End every other session", request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="revoke-others")
    def revoke_others(self, request):
        """End every session of yours but the current one (a lost phone, a shared computer)."""
        services.end_sessions(user=request.user, reason=Session.EndReason.REVOKED, keep=current_session_id(request))
        record_security_event(kind=SecurityEvent.Kind.OTHER_SESSIONS_REVOKED, request=request, user=request.user)
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
    """Change the password; the current one is required.

    Every session of the account ends, this one too: every token issued before is refused.
    This device goes on with the new session's pair in the response.
    """

    @extend_schema(
        request=PasswordChangeSerializer, responses={200: TokenPairSerializer}, examples=[CHANGE_PASSWORD, TOKEN_PAIR]
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.change_password(
            user=request.user, **serializer.validated_data, ip=client_ip(request), user_agent=_user_agent(request)
        )
        record_security_event(kind=SecurityEvent.Kind.PASSWORD_CHANGED, request=request, user=request.user)
        return Response(TokenPairSerializer(pair).data)


# The lists the apps contribute (registered in their ready(), before any URLconf is loaded).
EXPORT_SECTIONS = registry.export_sections()
EXPORT_LISTS = [section.name for section in EXPORT_SECTIONS]

UserExportSerializer = inline_serializer(
    "UserExport",
    fields={
        "format": serializers.CharField(),
        "version": serializers.IntegerField(),
        "exported_at": serializers.DateTimeField(),
        "profile": UserSerializer(),
        **{section.name: export_row_serializer(section.model)(many=True) for section in EXPORT_SECTIONS},
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
