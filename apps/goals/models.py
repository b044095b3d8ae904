"""Goals: a target value for a measurement type by a date."""

from django.db import models

from apps.measurements.models import VALUE_DIGITS, VALUE_PLACES, MeasurementType
from fithub.models import OwnedModel


class Goal(OwnedModel):
    """Reach `target_value` of a measurement type by `target_date`, starting from
    `start_value` on `start_date`. The direction (down for weight loss, up for muscle)
    follows from start and target. A new measurement that reaches the target marks the
    goal `achieved` (in the measurement services). One active goal per type."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ACHIEVED = "achieved", "Achieved"
        ABANDONED = "abandoned", "Abandoned"

    # A type in use is archived, never deleted from under its goals.
    type = models.ForeignKey(MeasurementType, on_delete=models.RESTRICT, related_name="goals")
    target_value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    start_value = models.DecimalField(max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES)
    start_date = models.DateField()
    target_date = models.DateField()
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.ACTIVE)
    achieved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(target_value=models.F("start_value")),
                name="goal_target_differs_from_start",
                violation_error_message="The target must differ from the start value.",
            ),
            models.CheckConstraint(
                condition=models.Q(target_date__gt=models.F("start_date")),
                name="goal_target_date_after_start",
                violation_error_message="The target date must be after the start date.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="achieved", achieved_at__isnull=False)
                | (~models.Q(status="achieved") & models.Q(achieved_at__isnull=True)),
                name="goal_achieved_at_iff_achieved",
            ),
            models.UniqueConstraint(
                fields=["user", "type"],
                condition=models.Q(status="active"),
                name="goal_one_active_per_type",
                violation_error_message="You already have an active goal for this measurement type.",
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="goal_user_status")]

    def __str__(self) -> str:
        return f"{self.type_id}: {self.start_value} -> {self.target_value} by {self.target_date}"

    @property
    def direction(self) -> int:
        """-1 when the value must go down, +1 when it must go up."""
        return -1 if self.target_value < self.start_value else 1

    def is_reached_by(self, value) -> bool:
        return value <= self.target_value if self.direction < 0 else value >= self.target_value
