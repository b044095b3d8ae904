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

# Shortened: real tokens are a few hundred characters. Both carry the session's id (`sid`).
ACCESS = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwic2lkIjoiLi4uIn0.c2lnbmF0dXJl"
REFRESH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsInNpZCI6Ii4uLiJ9.c2lnbmF0dXJl"
TOKEN_PAIR = OpenApiExample("A token pair", value={"access": ACCESS, "refresh": REFRESH}, response_only=True)
REFRESH_REQUEST = OpenApiExample("Refresh", value={"refresh": REFRESH}, request_only=True)
LOG_OUT = OpenApiExample("Log out", value={}, request_only=True)
CHANGE_PASSWORD = OpenApiExample(
    "Change the password",
    value={"old_password": "correct horse battery", "new_password": "a longer passphrase still"},
    request_only=True,
)

# --- Sessions ---------------------------------------------------------------------------

SESSION_ID = "01936b40-2c1d-7e5f-8a9b-0c1d2e3f4a5b"
SESSION_EXAMPLE = OpenApiExample(
    "A session",
    value={
        "id": SESSION_ID,
        "created_at": "2026-11-02T07:45:10Z",
        "last_used_at": "2026-11-21T17:58:03Z",
        "ip": "203.0.113.24",
        "user_agent": "FitHub/2.3 (iPhone; iOS 18.1)",
        "current": True,
    },
    response_only=True,
)

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
        "version": 1,
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
                    "food_id": "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d",
                    "portion_id": None,
                    "saved_meal_id": None,
                    "quantity": None,
                    "grams": 150.0,
                    "label": "Oats, rolled",
                    "meal": "breakfast",
                    "consumed_at": "2026-11-21T07:30:00Z",
                    "local_date": "2026-11-21",
                    "energy_kcal": 568.5,
                    "protein_g": 19.8,
                    "fat_g": 9.8,
                    "carbohydrate_g": 101.4,
                    "fiber_g": 15.9,
                    "sugars_g": 1.5,
                    "saturated_fat_g": 1.7,
                    "sodium_mg": 3.0,
                    "version": 1,
                    "created_at": "2026-11-21T07:31:02Z",
                    "updated_at": "2026-11-21T07:31:02Z",
                }
            ],
            **{name: [] for name in lists if name != "diary_entries"},
        },
    )
