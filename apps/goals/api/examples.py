"""OpenAPI examples of the goal endpoints (goals and their progress, nutrition targets).

Kept out of the views so that they read as code. This module imports nothing of the app,
so the views can import it without a cycle.
"""

from drf_spectacular.utils import OpenApiExample

# --- Goals ------------------------------------------------------------------------------

GOAL_EXAMPLE = OpenApiExample(
    "Lose 6 kg by spring",
    value={
        "id": "01936b2e-8f4a-7c3d-9e21-5a7b8c9d0e1f",
        "type": "01936b2e-0000-7000-8000-000000000001",
        "type_key": "weight",
        "unit": "kg",
        "start_value": 82.0,
        "target_value": 76.0,
        "start_date": "2026-11-01",
        "target_date": "2027-03-01",
        "status": "active",
        "achieved_at": None,
        "direction": "down",
        "created_at": "2026-11-01T08:00:00Z",
        "updated_at": "2026-11-01T08:00:00Z",
    },
    response_only=True,
)
SET_WEIGHT_GOAL = OpenApiExample(
    "New weight goal", value={"type": "weight", "target_value": 76, "target_date": "2027-03-01"}, request_only=True
)
PROGRESS_EXAMPLE = OpenApiExample(
    "Progress",
    value={
        "goal": GOAL_EXAMPLE.value,
        "direction": "down",
        "current_value": 79.4,
        "current_measured_at": "2026-11-20T06:15:00Z",
        "percent_complete": 43.3,
        "remaining": 3.4,
        "trend_value": 79.6,
        "rate_per_week": -0.5,
        "projected_date": "2027-01-10",
        "on_track": True,
    },
    response_only=True,
)

# --- Nutrition targets ------------------------------------------------------------------

# One target throughout: the one listed, and the one in force on the adherence days.
TARGET_ID = "01936b2e-9a00-7c3d-9e21-5a7b8c9d0e1f"
TARGET_MACROS = {"energy_kcal": 2000.0, "protein_g": 130.0, "fat_g": 70.0, "carbohydrate_g": 210.0}
TARGET_IN_FORCE = {"id": TARGET_ID, **TARGET_MACROS, "effective_from": "2026-11-20"}

TARGET_EXAMPLE = OpenApiExample(
    "A target",
    value={
        "id": TARGET_ID,
        **TARGET_MACROS,
        "effective_from": "2026-11-01",
        "created_at": "2026-10-31T20:00:00Z",
        "updated_at": "2026-10-31T20:00:00Z",
    },
    response_only=True,
)
SET_TARGET_FROM_MONDAY = OpenApiExample(
    "From Monday",
    value={"energy_kcal": 2000, "protein_g": 130, "effective_from": "2026-11-23"},
    request_only=True,
)
ADHERENCE_EXAMPLE = OpenApiExample(
    "Three days",
    value={
        "start": "2026-11-19",
        "end": "2026-11-21",
        "tolerance_percent": 10,
        "streak": 2,
        "days": [
            {"date": "2026-11-19", "target": None, "energy_kcal": 2450.0, "within_target": None},
            {"date": "2026-11-20", "target": TARGET_IN_FORCE, "energy_kcal": 2104.5, "within_target": True},
            {"date": "2026-11-21", "target": TARGET_IN_FORCE, "energy_kcal": 1890.0, "within_target": True},
        ],
    },
    response_only=True,
)
