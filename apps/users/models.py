"""Users: an account keyed by email, with the profile the nutrition and goal maths need."""

import zoneinfo
from datetime import date

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from fithub import bounds
from fithub.models import VersionedModel, new_id


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (such as 'Europe/Paris').", code="invalid")


_TIMEZONES: frozenset[str] | None = None


def available_timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(zoneinfo.available_timezones())
    return _TIMEZONES


class UserManager(BaseUserManager):
    use_in_migrations = True

    @staticmethod
    def normalize_email(email: str | None) -> str:
        # Addresses are compared case-insensitively everywhere; store them lowercased.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        # Emails are stored lowercased (a check constraint holds it), so an exact match on
        # the normalized address uses the unique index and still ignores case.
        return self.get(email=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(VersionedModel, AbstractBaseUser, PermissionsMixin):
    """A FitHub account. The email is the login; the profile feeds BMR and TDEE."""

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"

    class ActivityLevel(models.TextChoices):
        SEDENTARY = "sedentary", "Sedentary (x1.2)"
        LIGHT = "light", "Lightly active (x1.375)"
        MODERATE = "moderate", "Moderately active (x1.55)"
        ACTIVE = "active", "Very active (x1.725)"
        VERY_ACTIVE = "very_active", "Extra active (x1.9)"

    class UnitSystem(models.TextChoices):
        METRIC = "metric", "Metric"
        IMPERIAL = "imperial", "Imperial"

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)
    email = models.EmailField(
        "email address",
        max_length=254,
        unique=True,
        error_messages={"unique": "An account with this email already exists."},
        help_text="Stored lowercased, so uniqueness and login ignore case.",
    )
    display_name = models.CharField(max_length=100, blank=True)
    sex = models.CharField(max_length=6, choices=Sex.choices, blank=True)
    birth_date = models.DateField(null=True, blank=True, validators=[bounds.validate_birth_date])
    height_cm = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(bounds.HEIGHT_CM[0]), MaxValueValidator(bounds.HEIGHT_CM[1])],
        help_text="Height in centimetres (30-300).",
    )
    activity_level = models.CharField(max_length=11, choices=ActivityLevel.choices, default=ActivityLevel.SEDENTARY)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone name; the diary's days are local days in this zone.",
    )
    unit_system = models.CharField(
        max_length=8,
        choices=UnitSystem.choices,
        default=UnitSystem.METRIC,
        help_text="Display preference only: stored values are always metric.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True) | models.Q(height_cm__gte=30, height_cm__lte=300),
                name="user_height_cm_range",
            ),
            # The upper bound (today) moves, so only the validator holds it.
            models.CheckConstraint(
                condition=models.Q(birth_date__isnull=True) | models.Q(birth_date__gte=bounds.EARLIEST_BIRTH_DATE),
                name="user_birth_date_from_1900",
                violation_error_message=bounds.BIRTH_DATE_MESSAGES["out_of_range"],
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = User.objects.normalize_email(self.email)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self) -> date:
        return timezone.now().astimezone(self.zone).date()

    @property
    def age(self) -> int | None:
        """Whole years on the user's local today."""
        if self.birth_date is None:
            return None
        today = self.local_today()
        had_birthday = (today.month, today.day) >= (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - (0 if had_birthday else 1)


class SecurityEvent(models.Model):
    """An audit record of a security-relevant event, with where it came from."""

    class Kind(models.TextChoices):
        REGISTERED = "registered"
        LOGIN_SUCCEEDED = "login_succeeded"
        LOGIN_FAILED = "login_failed"
        # The first refused attempt of a throttle window (IP or account), not each one: a
        # flood of throttled logins must not become a flood of writes.
        LOGIN_THROTTLED = "login_throttled"
        LOGOUT = "logout"
        # A rotated refresh token sent again after the grace window: its session was ended.
        REFRESH_REUSED = "refresh_reused"
        SESSION_REVOKED = "session_revoked"
        OTHER_SESSIONS_REVOKED = "other_sessions_revoked"
        PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name, not a password
        ACCOUNT_DELETED = "account_deleted"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.CharField(max_length=254, blank=True, help_text="The account named, kept after deletion.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["email", "-created_at"], name="securityevent_email_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.email} {self.created_at:%Y-%m-%d %H:%M}"
