"""OpenAPI examples of the nutrition endpoints (foods, preferences, saved meals, diary, targets).

Kept out of the views so that they read as code. Request examples are named for what they
do (LOG_FOOD_BY_GRAMS), answers for what they show (ENTRY_EXAMPLE). This module imports
nothing of the app, so the views can import it without a cycle.
"""

from drf_spectacular.utils import OpenApiExample

# The examples share one food, so a request's ids match the answers'.
FOOD_ID = "0193a1c2-7e5f-7a3b-8c4d-2e1f0a9b8c7d"
FOOD_NAME = "Chicken, broilers or fryers, breast, meat and skin, raw"
PORTION_ID = 4391

# What 150 g of that food contributes: an entry's nutrients, a meal's and a day's totals.
CHICKEN_150_G = {
    "energy_kcal": 258.0,
    "protein_g": 31.28,
    "fat_g": 13.88,
    "carbohydrate_g": 0.0,
    "fiber_g": 0.0,
    "sugars_g": 0.0,
    "saturated_fat_g": 3.99,
    "sodium_mg": 94.5,
}
# A meal slot of the day summary with nothing logged in it.
ZERO_MACROS = {"energy_kcal": 0.0, "protein_g": 0.0, "fat_g": 0.0, "carbohydrate_g": 0.0}
CHICKEN_150_G_MACROS = {name: CHICKEN_150_G[name] for name in ZERO_MACROS}

# --- Foods ------------------------------------------------------------------------------

FOOD_EXAMPLE = OpenApiExample(
    "A public food",
    value={
        "id": FOOD_ID,
        "name": FOOD_NAME,
        "brand": "",
        "barcode": "",
        "food_group": "Poultry Products",
        "source": "usda",
        "source_id": "05057",
        "is_public": True,
        "energy_kcal": 172.0,
        "protein_g": 20.85,
        "fat_g": 9.25,
        "carbohydrate_g": 0.0,
        "fiber_g": 0.0,
        "sugars_g": 0.0,
        "saturated_fat_g": 2.66,
        "sodium_mg": 63.0,
        "portions": [{"id": PORTION_ID, "description": "1 oz", "grams": 28.35, "archived_at": None}],
        "is_favorite": False,
        "is_disliked": False,
        "is_allergen": False,
        "archived_at": None,
        "version": 1,
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z",
    },
    response_only=True,
)
# One of your own foods, as the sync feed sends it.
CUSTOM_FOOD = {
    **FOOD_EXAMPLE.value,
    "id": "0193a1c2-9f00-7a3b-8c4d-2e1f0a9b8c7d",
    "name": "Grandma's granola",
    "barcode": "4006381333931",
    "food_group": "",
    "source": "user",
    "source_id": "",
    "is_public": False,
    "energy_kcal": 471.0,
    "protein_g": 10.2,
    "fat_g": 20.1,
    "carbohydrate_g": 61.5,
    "fiber_g": None,
    "sugars_g": None,
    "saturated_fat_g": None,
    "sodium_mg": None,
    "portions": [{"id": 88213, "description": "1 bowl", "grams": 60.0, "archived_at": None}],
    "is_favorite": True,
    "version": 3,
}
CREATE_CUSTOM_FOOD = OpenApiExample(
    "A custom food",
    value={
        "name": "Grandma's granola",
        "barcode": "4006381333931",
        "energy_kcal": 471,
        "protein_g": 10.2,
        "fat_g": 20.1,
        "carbohydrate_g": 61.5,
        "portions": [{"description": "1 bowl", "grams": 60}],
    },
    request_only=True,
)
RENAME_FOOD = OpenApiExample("Rename", value={"name": "Granola"}, request_only=True)

# Logged last as two portions of 1 oz (56.7 g), three times in the last 90 days.
LAST_LOGGED = {
    "last_logged_at": "2026-11-21T12:30:00+01:00",
    "grams": 56.7,
    "portion": PORTION_ID,
    "quantity": 2.0,
}
RECENT_FOOD_EXAMPLE = OpenApiExample(
    "Logged last as two portions",
    value={**FOOD_EXAMPLE.value, "archived_at": None, "is_disliked": False, **LAST_LOGGED},
    response_only=True,
)
FREQUENT_FOOD_EXAMPLE = OpenApiExample(
    "Logged three times",
    value={**FOOD_EXAMPLE.value, "archived_at": None, "is_disliked": False, **LAST_LOGGED, "count": 3},
    response_only=True,
)

# --- Food preferences -------------------------------------------------------------------

SET_ALLERGY = OpenApiExample(
    "An allergy",
    value={"food": FOOD_ID, "favorite": False, "dislike": False, "allergy": True},
    request_only=True,
)
PREFERENCE_EXAMPLE = OpenApiExample(
    "An allergy",
    value={
        "id": "0193a1c6-4444-7a3b-8c4d-2e1f0a9b8c7d",
        "food": FOOD_ID,
        "food_name": FOOD_NAME,
        "favorite": False,
        "dislike": False,
        "allergy": True,
        "version": 1,
        "created_at": "2026-11-02T09:00:00Z",
        "updated_at": "2026-11-02T09:00:00Z",
    },
    response_only=True,
)
MARK_FAVORITE = OpenApiExample("Favorite", value={"favorite": True}, request_only=True)

# --- Saved meals ------------------------------------------------------------------------

MEAL_ID = "0193a1c4-2222-7a3b-8c4d-2e1f0a9b8c7d"
MEAL_EXAMPLE = OpenApiExample(
    "A saved meal",
    value={
        "id": MEAL_ID,
        "name": "Chicken and rice",
        "slot": "lunch",
        "weekdays": ["monday", "wednesday"],
        "servings": 1.0,
        "cooked_weight_g": None,
        "items": [{"id": 1, "food": FOOD_ID, "food_name": "Chicken, broilers ... raw", "grams": 150.0}],
        "total_grams": 150.0,
        "totals": CHICKEN_150_G,
        "per_serving": CHICKEN_150_G,
        "version": 1,
        "created_at": "2026-11-01T08:30:00Z",
        "updated_at": "2026-11-01T08:30:00Z",
    },
    response_only=True,
)
SAVE_MEAL = OpenApiExample(
    "Chicken and rice",
    value={
        "name": "Chicken and rice",
        "slot": "lunch",
        "weekdays": ["monday", "wednesday"],
        "items": [{"food": FOOD_ID, "grams": 150}],
    },
    request_only=True,
)
SAVE_RECIPE = OpenApiExample(
    "A stew for four",
    value={
        "name": "Beef stew",
        "slot": "dinner",
        "servings": 4,
        "cooked_weight_g": 800,
        "items": [{"food": FOOD_ID, "grams": 400}],
    },
    request_only=True,
)
PLAN_MEAL = OpenApiExample("Plan", value={"weekdays": ["friday"]}, request_only=True)
LOG_SERVINGS = OpenApiExample(
    "One and a half servings", value={"servings": 1.5, "consumed_at": "2026-11-21T19:30:00-08:00"}, request_only=True
)
LOG_COOKED_GRAMS = OpenApiExample("250 g of the cooked dish", value={"grams": 250, "meal": "dinner"}, request_only=True)
LOG_MEAL_FOR_DINNER = OpenApiExample(
    "Log it for dinner", value={"consumed_at": "2026-11-21T19:30:00-08:00", "meal": "dinner"}, request_only=True
)
PLANNED_DAY_EXAMPLE = OpenApiExample(
    "Monday",
    value={"date": "2026-11-23", "weekday": "monday", "meals": []},
    response_only=True,
)

# --- Diary ------------------------------------------------------------------------------

ENTRY_EXAMPLE = OpenApiExample(
    "A logged food",
    value={
        "id": "0193a1c3-1111-7a3b-8c4d-2e1f0a9b8c7d",
        "food": FOOD_ID,
        "portion": None,
        "quantity": None,
        "grams": 150.0,
        "label": FOOD_NAME,
        "meal": "dinner",
        "consumed_at": "2026-11-21T19:30:00-08:00",
        "local_date": "2026-11-21",
        "saved_meal": None,
        **CHICKEN_150_G,
        "warnings": [],
        "version": 1,
        "created_at": "2026-11-22T03:31:00Z",
        "updated_at": "2026-11-22T03:31:00Z",
    },
    response_only=True,
)
MEAL_LOGGED = OpenApiExample(
    "Logged for dinner",
    value={"entries": [{**ENTRY_EXAMPLE.value, "saved_meal": MEAL_ID}], "warnings": []},
    response_only=True,
)
COPY_YESTERDAYS_BREAKFAST = OpenApiExample(
    "Yesterday's breakfast again today",
    value={"from_date": "2026-11-20", "to_date": "2026-11-21", "meal": "breakfast"},
    request_only=True,
)
COPIED_ENTRIES = OpenApiExample(
    "The copies",
    value={
        "entries": [
            {
                **ENTRY_EXAMPLE.value,
                "id": "0193a1c3-2222-7a3b-8c4d-2e1f0a9b8c7d",
                "meal": "breakfast",
                "consumed_at": "2026-11-21T07:45:00-08:00",
                "local_date": "2026-11-21",
            }
        ],
        "warnings": [],
    },
    response_only=True,
    status_codes=["201"],
)
LOG_FOOD_BY_GRAMS = OpenApiExample(
    "150 g of a food",
    value={"food": FOOD_ID, "grams": 150, "meal": "dinner", "consumed_at": "2026-11-21T19:30:00-08:00"},
    request_only=True,
)
LOG_FOOD_BY_PORTION = OpenApiExample(
    "Two portions",
    value={
        "food": FOOD_ID,
        "portion": PORTION_ID,
        "quantity": 2,
        "meal": "lunch",
        "consumed_at": "2026-11-21T12:30:00+01:00",
    },
    request_only=True,
)
LOG_QUICK_ADD = OpenApiExample(
    "Quick-add",
    value={
        "label": "Burrito at Luisa's",
        "energy_kcal": 850,
        "protein_g": 38,
        "fat_g": 30,
        "carbohydrate_g": 104,
        "meal": "lunch",
        "consumed_at": "2026-11-21T12:30:00+01:00",
    },
    request_only=True,
)
CHANGE_ENTRY_GRAMS = OpenApiExample("More", value={"grams": 200}, request_only=True)
SUMMARY_EXAMPLE = OpenApiExample(
    "One day",
    value={
        "start": "2026-11-21",
        "end": "2026-11-21",
        "days": [
            {
                "date": "2026-11-21",
                "entry_count": 1,
                "totals": CHICKEN_150_G,
                "by_meal": {
                    "breakfast": ZERO_MACROS,
                    "lunch": ZERO_MACROS,
                    "dinner": CHICKEN_150_G_MACROS,
                    "snack": ZERO_MACROS,
                },
                "water_ml": 1750.0,
                "target": None,
            }
        ],
    },
    response_only=True,
)

# --- Nutrition targets ------------------------------------------------------------------

# One target throughout: the one listed, and the one in force on the adherence days.
TARGET_ID = "01936b2e-9a00-7c3d-9e21-5a7b8c9d0e1f"
TARGET_MACROS = {
    "energy_kcal": 2000.0,
    "protein_g": 130.0,
    "fat_g": 70.0,
    "carbohydrate_g": 210.0,
    "water_ml": 2000.0,
}
TARGET_IN_FORCE = {"id": TARGET_ID, **TARGET_MACROS, "effective_from": "2026-11-20"}

TARGET_EXAMPLE = OpenApiExample(
    "A target",
    value={
        "id": TARGET_ID,
        **TARGET_MACROS,
        "effective_from": "2026-11-01",
        "version": 1,
        "created_at": "2026-10-31T20:00:00Z",
        "updated_at": "2026-10-31T20:00:00Z",
    },
    response_only=True,
)
SET_TARGET_FROM_MONDAY = OpenApiExample(
    "From Monday",
    value={"energy_kcal": 2000, "protein_g": 130, "water_ml": 2000, "effective_from": "2026-11-23"},
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
            {
                "date": "2026-11-19",
                "target": None,
                "energy_kcal": 2450.0,
                "within_target": None,
                "water_ml": 1500.0,
                "water_met": None,
            },
            {
                "date": "2026-11-20",
                "target": TARGET_IN_FORCE,
                "energy_kcal": 2104.5,
                "within_target": True,
                "water_ml": 2250.0,
                "water_met": True,
            },
            {
                "date": "2026-11-21",
                "target": TARGET_IN_FORCE,
                "energy_kcal": 1890.0,
                "within_target": True,
                "water_ml": 1250.0,
                "water_met": False,
            },
        ],
    },
    response_only=True,
)

# --- Water ------------------------------------------------------------------------------

WATER_EXAMPLE = OpenApiExample(
    "A glass entered in fl oz",
    value={
        "id": "0193a1c5-3333-7a3b-8c4d-2e1f0a9b8c7d",
        "ml": 236.59,
        "entered_value": 8.0,
        "entered_unit": "fl_oz",
        "consumed_at": "2026-11-21T10:15:00-08:00",
        "local_date": "2026-11-21",
        "version": 1,
        "created_at": "2026-11-21T18:15:02Z",
        "updated_at": "2026-11-21T18:15:02Z",
    },
    response_only=True,
)
LOG_WATER_ML = OpenApiExample(
    "A glass in ml", value={"ml": 250, "consumed_at": "2026-11-21T10:15:00+01:00"}, request_only=True
)
LOG_WATER_FL_OZ = OpenApiExample(
    "8 fl oz",
    value={"value": 8, "unit": "fl_oz", "consumed_at": "2026-11-21T10:15:00-08:00"},
    request_only=True,
)
CHANGE_WATER = OpenApiExample("A bigger glass", value={"ml": 330}, request_only=True)
