"""OpenAPI examples of the account endpoints (auth, profile, export).

Kept out of the views so that they read as code. This module imports nothing of the app,
so the views can import it without a cycle.
"""

from drf_spectacular.utils import OpenApiExample

# One account throughout: the login example logs in the user the register example created.
EMAIL = "ada@example.com"

# --- Auth -------------------------------------------------------------------------------

REGISTER = OpenApiExample(
    "Register",
    value={"email": EMAIL, "password": "correct horse battery", "display_name": "Ada"},
    request_only=True,
)
LOG_IN = OpenApiExample("Log in", value={"email": EMAIL, "password": "correct horse battery"}, request_only=True)

# --- Profile ----------------------------------------------------------------------------

PROFILE_EXAMPLE = OpenApiExample(
    "A profile",
    value={
        "id": "01936b2e-8f4a-7c3d-9e21-5a7b8c9d0e1f",
        "email": EMAIL,
        "display_name": "Ada",
        "sex": "female",
        "birth_date": "1990-04-12",
        "height_cm": 168.0,
        "activity_level": "moderate",
        "timezone": "Europe/London",
        "unit_system": "metric",
        "age": 36,
        "bmi": 22.0,
        "bmr_kcal": 1329,
        "tdee_kcal": 2060,
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-20T19:02:11Z",
    },
    response_only=True,
)

# --- Export -----------------------------------------------------------------------------


def export_example(lists: tuple[str, ...]) -> OpenApiExample:
    """An export with one diary entry and every other list empty. The view passes its
    EXPORT_LISTS, so the example names the same lists as the documented serializer."""
    return OpenApiExample(
        "An export",
        response_only=True,
        value={
            "format": "fithub-export",
            "version": 1,
            "exported_at": "2026-11-21T18:00:00Z",
            "profile": PROFILE_EXAMPLE.value,
            "diary_entries": [
                {
                    "id": "01936b2e-8f4a-7c3d-9e21-5a7b8c9d0e1f",
                    "meal": "breakfast",
                    "grams": 150.0,
                    "energy_kcal": 372.0,
                }
            ],
            **{name: [] for name in lists if name != "diary_entries"},
        },
    )
