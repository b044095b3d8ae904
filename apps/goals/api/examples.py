"""OpenAPI examples of the goal endpoints (goals and their progress).

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
        "version": 1,
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
