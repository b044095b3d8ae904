"""An error's `attr` is the path in the body of what it is about: `items.N.field` for a field
of an item of a nested list, `items.N` for the item itself, null for the body as a whole;
and the operation's documented 400 lists each (attr, code) the server answers."""

import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail
from rest_framework.exceptions import ValidationError as DRFValidationError

from fithub.api.handlers import ExceptionFormatter
from tests.measurements.factories import MeasurementTypeFactory
from tests.nutrition.factories import CustomFoodFactory, MealFactory, PublicFoodFactory
from tests.schema_errors import documented_400, documented_attrs, is_documented

pytestmark = pytest.mark.django_db
CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MISSING = object()


@dataclass(frozen=True)
class NestedList:
    """A nested list of a write: a valid body around it, a valid item, and per field of an
    item the values it refuses (MISSING: the field left out); `bad_items` are refused whole."""

    path: str  # the schema's
    method: str
    list_field: str
    body: dict
    item: object
    bad_fields: dict = field(default_factory=dict)
    bad_items: tuple = ()


FOOD_PORTION = {"description": "1 bowl", "grams": 60}
PORTION_FIELDS = {
    "description": [MISSING, None, 0, "", "a\x00", "x" * 121],
    "grams": [MISSING, None, 0, -1, "NaN", "x", True, 1e9],
    "id": [None, "x", 0],
}
NOT_AN_OBJECT = (None, 1, "x", [], True)
MEASUREMENT = {"type": "weight", "value": 80, "measured_at": "2026-06-01T07:00:00Z"}
MEAL = {"name": "Lunch", "slot": "lunch"}


def nested_lists(food_id: str) -> list[NestedList]:
    meal_item = {"food": food_id, "grams": 150}
    meal_fields = {"food": [MISSING, None, "x", 1, str(uuid.UUID(int=7))], "grams": PORTION_FIELDS["grams"]}
    return [
        NestedList(
            "/api/v1/foods/", "post", "portions", {"name": "Granola"}, FOOD_PORTION, PORTION_FIELDS, NOT_AN_OBJECT
        ),
        NestedList("/api/v1/foods/{id}/", "patch", "portions", {}, FOOD_PORTION, PORTION_FIELDS, NOT_AN_OBJECT),
        NestedList("/api/v1/meals/", "post", "items", MEAL, meal_item, meal_fields, NOT_AN_OBJECT),
        NestedList("/api/v1/meals/{id}/", "patch", "items", {}, meal_item, meal_fields, NOT_AN_OBJECT),
        NestedList("/api/v1/meals/", "post", "weekdays", MEAL, "monday", bad_items=("someday", None, 1, "", [])),
        NestedList("/api/v1/meals/{id}/", "patch", "weekdays", {}, "friday", bad_items=("someday", None, 1, "", [])),
        NestedList(
            "/api/v1/measurements/bulk/",
            "post",
            "items",
            {},
            MEASUREMENT,
            {
                "type": [MISSING, None, 1, "nope"],
                "value": [MISSING, None, "NaN", "x", True],
                "measured_at": [MISSING, None, "not a time", 5, "2026-06-01T07:00:00"],
                "note": [None, 1],
            },
            NOT_AN_OBJECT,
        ),
    ]


LIST_IDS = [f"{spec.method} {spec.path} {spec.list_field}" for spec in nested_lists("x")]


def _url(spec: NestedList, user) -> str:
    if "{id}" not in spec.path:
        return spec.path
    row = CustomFoodFactory(user=user) if spec.path.startswith("/api/v1/foods/") else MealFactory(user=user)
    return spec.path.replace("{id}", str(row.pk))


def _bad(spec: NestedList):
    """One item of the list, valid or refused in one way: (item, the attr suffix it answers on)."""
    good = st.just((spec.item, None))
    choices = [good]
    for name, values in spec.bad_fields.items():
        for value in values:
            item = {k: v for k, v in spec.item.items() if k != name}
            if value is not MISSING:
                item[name] = value
            choices.append(st.just((item, name)))
    choices.extend(st.just((value, "")) for value in spec.bad_items)
    return st.one_of(choices)


@pytest.mark.parametrize("index", range(len(LIST_IDS)), ids=LIST_IDS)
@CHECKS
@given(data=st.data())
def test_an_item_error_names_the_item_and_field(auth_client, user, index, data):
    spec = nested_lists(str(PublicFoodFactory().pk))[index]
    url = _url(spec, user)
    items = data.draw(
        st.lists(_bad(spec), min_size=1, max_size=5).filter(lambda rows: any(where is not None for _, where in rows))
    )
    body = {**spec.body, spec.list_field: [item for item, _ in items]}
    response = getattr(auth_client, spec.method)(url, body, format="json")
    assert response.status_code == 400, (body, response.content)
    errors = response.json()["errors"]
    expected = {
        f"{spec.list_field}.{position}" + (f".{where}" if where else "")
        for position, (_, where) in enumerate(items)
        if where is not None
    }
    assert {error["attr"] for error in errors} == expected, (body, errors)
    for error in errors:
        assert is_documented(error["attr"], error["code"], spec.path, spec.method), (
            error,
            documented_400(spec.path, spec.method),
        )


def test_every_nested_list_of_a_write_is_covered_above():
    """A write whose documented 400 names list items (`X.N...`) must be in nested_lists()."""
    covered = {(spec.path, spec.method, spec.list_field) for spec in nested_lists("x")}
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "400" not in operation.get("responses", {}) or method == "get":
                continue
            for attr in documented_attrs(path, method):
                parts = attr.split(".")
                if "N" in parts:
                    found.add((path, method, ".".join(parts[: parts.index("N")])))
    assert found, "no documented item attrs: the schema lost them"
    assert found <= covered, found - covered


@pytest.mark.parametrize(
    ("spec_index", "item_change", "attr", "code"),
    [
        (0, {"description": "x" * 121}, "portions.1.description", "max_length"),
        (6, {"value": 5000}, "items.1.value", "out_of_range"),
        (6, {"unit": "cm"}, "items.1.unit", "invalid_unit"),
        (6, {"measured_at": "2099-01-01T00:00:00Z"}, "items.1.measured_at", "future"),
    ],
)
def test_a_service_or_row_check_names_the_item_and_field(
    auth_client, user, builtin_types, spec_index, item_change, attr, code
):
    spec = nested_lists(str(PublicFoodFactory().pk))[spec_index]
    items = [spec.item, {**spec.item, **item_change}]
    response = getattr(auth_client, spec.method)(_url(spec, user), {**spec.body, spec.list_field: items}, format="json")
    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [(attr, code)]
    assert is_documented(attr, code, spec.path, spec.method)


def test_a_row_check_of_a_whole_item_names_the_item(auth_client, user, builtin_types, monkeypatch):
    """A model-level error (full_clean's __all__) of one row of a batch answers on `items.N`."""
    from django.core.exceptions import ValidationError

    from apps.measurements import services

    build = services._build_measurement
    calls = []

    def refuse_the_second(**row):
        calls.append(row)
        if len(calls) == 2:
            raise ValidationError("These values do not go together.", code="invalid")
        return build(**row)

    monkeypatch.setattr(services, "_build_measurement", refuse_the_second)
    items = [MEASUREMENT, {**MEASUREMENT, "measured_at": "2026-06-02T07:00:00Z"}]
    response = auth_client.post(reverse("measurement-bulk"), {"items": items}, format="json")
    assert response.status_code == 400, response.content
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("items.1", "invalid")]
    assert is_documented("items.1", "invalid", "/api/v1/measurements/bulk/", "post")


def test_object_level_errors_have_attr_null(auth_client, user, builtin_types):
    kind = MeasurementTypeFactory(user=user, name="Waist")
    cases = [
        (
            "/api/v1/measurement-types/",
            "post",
            reverse("measurement-type-list"),
            {"name": kind.name, "unit": kind.unit},
        ),
        ("/api/v1/meals/{id}/log/", "post", reverse("meals-log", args=[MealFactory(user=user).pk]), {}),
    ]
    for path, method, url, body in cases:
        response = getattr(auth_client, method)(url, body, format="json")
        assert response.status_code == 400, response.content
        errors = response.json()["errors"]
        assert [e["attr"] for e in errors] == [None], errors
        assert all(is_documented(None, e["code"], path, method) for e in errors)


def test_the_schema_documents_no_non_field_errors_attr():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    attrs = {
        str(entry["attr"])
        for item in schema["paths"].values()
        for operation in item.values()
        for entry in operation.get("responses", {}).get("400", {}).get("x-error-codes", [])
    }
    assert "None" in attrs  # the body's own errors, documented as null
    assert {"name", "items.N.value"} <= attrs
    assert not {attr for attr in attrs if "non_field_errors" in attr}


# --- the formatter alone: any nesting of DRF error details ---------------------------------

NAMES = st.sampled_from(["name", "grams", "food", "non_field_errors", "items"])


LEAF = st.lists(
    st.builds(lambda code: ErrorDetail(f"bad {code}", code=code), st.sampled_from(["invalid", "required"])),
    min_size=1,
    max_size=2,
)


def _object(depth: int):
    """A serializer's errors: {field: errors of that field}."""
    return st.dictionaries(NAMES, _field(depth - 1), min_size=1, max_size=3)


def _field(depth: int):
    """A field's errors, as DRF raises them: its own, a nested serializer's, a
    ListSerializer's (one entry per item: {} when valid, the item's own errors or its
    fields'), a ListField's ({index: errors})."""
    if depth <= 0:
        return LEAF
    return st.one_of(
        LEAF,
        _object(depth),
        st.lists(st.one_of(st.just({}), LEAF, _object(depth)), min_size=1, max_size=3),
        st.dictionaries(st.integers(0, 9), LEAF, min_size=1, max_size=2),
    )


def _paths(detail, path=()):
    """Each ErrorDetail with its path, computed apart from the formatter."""
    if isinstance(detail, ErrorDetail):
        yield path, detail
    elif isinstance(detail, dict):
        for key, value in detail.items():
            yield from _paths(value, (*path, str(key)))
    else:
        for position, value in enumerate(detail):
            yield from _paths(value, path if isinstance(value, ErrorDetail) else (*path, str(position)))


@settings(max_examples=300, deadline=None)
@given(detail=_object(4))
def test_the_attr_is_the_path_without_non_field_errors(detail):
    errors = ExceptionFormatter(DRFValidationError(detail), {}, None).get_errors()
    expected = []
    for path, error in _paths(detail):
        # DRFValidationError keeps dicts and lists but makes int keys strings: same path.
        while path and path[-1] == "non_field_errors":
            path = path[:-1]
        expected.append((".".join(path) or None, error.code))
    assert sorted([(e.attr, e.code) for e in errors], key=repr) == sorted(expected, key=repr)
    assert all(e.attr is None or not re.search(r"(^|\.)non_field_errors$", e.attr) for e in errors)
