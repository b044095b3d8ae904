"""OpenAPI examples of the measurement endpoints (types, measurements, trends).

Kept out of the views so that they read as code. This module imports nothing of the app,
so the views can import it without a cycle.
"""

from drf_spectacular.utils import OpenApiExample

# The built-in weight type, which every measurement example is of.
WEIGHT_TYPE_ID = "01936b2e-0000-7000-8000-000000000001"

# --- Measurement types ------------------------------------------------------------------

TYPE_EXAMPLE = OpenApiExample(
    "A built-in type",
    value={
        "id": WEIGHT_TYPE_ID,
        "key": "weight",
        "name": "Weight",
        "unit": "kg",
        "accepted_units": ["kg", "lb"],
        "min_value": 20,
        "max_value": 500,
        "is_builtin": True,
        "archived_at": None,
        "version": 1,
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
    },
    response_only=True,
)
CREATE_CUSTOM_TYPE = OpenApiExample(
    "Your own type", value={"name": "Calf", "unit": "cm", "min_value": 15, "max_value": 80}, request_only=True
)

# --- Measurements -----------------------------------------------------------------------

MEASUREMENT_EXAMPLE = OpenApiExample(
    "A weight entered in pounds",
    value={
        "id": "01936b2e-8f4a-7c3d-9e21-5a7b8c9d0e1f",
        "type": WEIGHT_TYPE_ID,
        "type_key": "weight",
        "value": 72.5748,
        "stored_unit": "kg",
        "entered_value": 160,
        "entered_unit": "lb",
        "measured_at": "2026-11-20T07:15:00+01:00",
        "note": "after a run",
        "version": 1,
        "created_at": "2026-11-20T06:15:03Z",
        "updated_at": "2026-11-20T06:15:03Z",
    },
    response_only=True,
)
RECORD_WEIGHT_IN_POUNDS = OpenApiExample(
    "Log a weight in pounds",
    value={"type": "weight", "value": 160, "unit": "lb", "measured_at": "2026-11-20T07:15:00+01:00", "note": ""},
    request_only=True,
)
RECORD_WEEK_OF_WEIGHTS = OpenApiExample(
    "A week of scale readings",
    value={
        "items": [
            {"type": "weight", "value": 81.2, "measured_at": "2026-11-14T07:00:00+01:00"},
            {"type": "weight", "value": 178.6, "unit": "lb", "measured_at": "2026-11-15T07:05:00+01:00"},
        ]
    },
    request_only=True,
)
# One item: drf-spectacular shows a list operation's example as a list of it.
LATEST_EXAMPLE = OpenApiExample("Latest values", value=MEASUREMENT_EXAMPLE.value, response_only=True)
TREND_EXAMPLE = OpenApiExample(
    "Weight trend",
    value={
        "type": WEIGHT_TYPE_ID,
        "unit": "kg",
        "start": "2026-11-01",
        "end": "2026-11-20",
        "points": [{"date": "2026-11-20", "value": 80.1, "count": 1, "trend": 80.4, "rate_per_week": -0.5}],
        "rate_per_week": -0.5,
    },
    response_only=True,
)
