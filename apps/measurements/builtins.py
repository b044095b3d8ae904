"""The built-in measurement types, shared by every user. The data migration seeds them;
`sync_builtin_types` is idempotent so it can run again (tests that flush the database)."""

from decimal import Decimal

from fithub.bounds import WEIGHT_KG

# key, name, unit, min, max: the physically sensible range of an adult's value.
BUILTIN_TYPES: list[tuple[str, str, str, str, str]] = [
    ("weight", "Weight", "kg", str(WEIGHT_KG[0]), str(WEIGHT_KG[1])),
    ("body_fat", "Body fat", "%", "2", "75"),
    ("waist", "Waist", "cm", "30", "250"),
    ("hips", "Hips", "cm", "40", "250"),
    ("chest", "Chest", "cm", "40", "250"),
    ("neck", "Neck", "cm", "15", "80"),
    ("arm", "Arm", "cm", "10", "100"),
    ("thigh", "Thigh", "cm", "20", "150"),
    ("resting_heart_rate", "Resting heart rate", "bpm", "20", "250"),
]


def sync_builtin_types(measurement_type_model) -> None:
    """Create or update the built-in types on the model class given (a migration's historical one)."""
    for key, name, unit, low, high in BUILTIN_TYPES:
        measurement_type_model.objects.update_or_create(
            key=key,
            user=None,
            defaults={"name": name, "unit": unit, "min_value": Decimal(low), "max_value": Decimal(high)},
        )
