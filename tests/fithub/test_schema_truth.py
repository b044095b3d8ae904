"""The schema tells generated clients the truth (issue 16): who needs a token, the bodies a
request can carry, the statuses an operation answers, which properties a response always
has, one enum per concept, 204s without content, examples that are instances of their
schemas. Checked against the schema and, where it matters, against what the server sends."""

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.fithub.openapi import SchemaValidator, examples, instances, operations
from tests.nutrition.factories import PublicFoodFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
ANONYMOUS_ONLY = {
    ("post", "/api/v1/auth/register/"),
    ("post", "/api/v1/auth/token/"),
    ("post", "/api/v1/auth/token/refresh/"),
}
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TOKEN_OPTIONAL = {("get", "/api/v1/foods/"), ("get", "/api/v1/foods/{id}/")}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(autouse=True)
def _generous_throttles(throttle_rates):
    throttle_rates(anon="10000/min", user="10000/min", ip="10000/min", register="1000/min", login_ip="1000/min")


def _response_schema(operation: dict, status: int, schema: dict) -> dict | None:
    """The body schema of the operation's response, a shared one (components/responses) resolved."""
    response = operation["responses"].get(str(status))
    while response is not None and "$ref" in response:
        response = schema["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    if response is None:
        return None
    return response.get("content", {}).get("application/json", {}).get("schema")


def _url(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{id\}", ids.get(template, str(uuid.uuid4())), template)


# --- security ----------------------------------------------------------------------------


def test_operations_that_read_no_token_say_security_empty(schema):
    # openapi-python-client types any non-empty security (`[{}]` too) as needing an
    # AuthenticatedClient; `[]` gives `AuthenticatedClient | Client`.
    for method, path in ANONYMOUS_ONLY:
        assert schema["paths"][path][method]["security"] == [], (method, path)


def test_the_food_reads_take_the_optional_top_level_security(schema):
    # Without security of their own the operations take the document's: a token or none.
    # openapi-python-client reads the operation's only, so both clients may call them.
    assert schema["security"] == [{"jwtAuth": []}, {}]
    for method, path in TOKEN_OPTIONAL:
        assert "security" not in schema["paths"][path][method], (method, path)


def test_every_other_operation_needs_the_token_and_answers_401_without_one(schema, api_client):
    checked = 0
    for path, method, operation in operations(schema):
        if (method, path) in ANONYMOUS_ONLY | TOKEN_OPTIONAL:
            continue
        assert operation["security"] == [{"jwtAuth": []}], (method, path)
        assert "401" in operation["responses"], (method, path)
        response = getattr(api_client, method)(_url(path, {}), {} if method == "get" else None, format="json")
        assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 50


def test_the_anonymous_and_the_token_operations_work_without_a_token(api_client, user):
    public = PublicFoodFactory(name="Anonymous oats")
    registered = api_client.post(
        reverse("auth-register"), {"email": "new@example.com", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201
    pair = api_client.post(reverse("auth-token"), {"email": "new@example.com", "password": PASSWORD}, format="json")
    assert pair.status_code == 200
    refreshed = api_client.post(reverse("auth-token-refresh"), {"refresh": pair.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200
    found = api_client.get(reverse("foods-list"), {"search": "anonymous oats"})
    assert found.status_code == 200
    assert [food["id"] for food in found.json()["results"]] == [str(public.pk)]
    # with a token, the same operation also finds the caller's own foods
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    own = client.post(reverse("foods-list"), {"name": "Anonymous oats, my own"}, format="json")
    assert own.status_code == 201
    both = client.get(reverse("foods-list"), {"search": "anonymous oats"})
    assert {food["id"] for food in both.json()["results"]} == {str(public.pk), own.json()["id"]}
    assert api_client.get(reverse("foods-detail", args=[own.json()["id"]])).status_code == 404
    assert client.get(reverse("foods-detail", args=[own.json()["id"]])).status_code == 200


# --- DELETE /users/me/ -------------------------------------------------------------------


def test_account_deletion_documents_its_password_body(schema):
    operation = schema["paths"]["/api/v1/users/me/"]["delete"]
    body = operation["requestBody"]
    assert body["required"] is True
    ref = body["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert component["required"] == ["password"]
    assert component["properties"]["password"]["type"] == "string"
    assert {"204", "400", "401"} <= set(operation["responses"])
    # no other DELETE reads a body
    others = [path for path, method, op in operations(schema) if method == "delete" and "requestBody" in op]
    assert others == ["/api/v1/users/me/"]


def test_account_deletion_with_the_documented_body(schema, api_client):
    api_client.post(reverse("auth-register"), {"email": "gone@example.com", "password": PASSWORD}, format="json")
    pair = api_client.post(reverse("auth-token"), {"email": "gone@example.com", "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    operation = schema["paths"]["/api/v1/users/me/"]["delete"]
    validator = SchemaValidator(schema)
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert validator.errors({}, body_schema)  # the password is required: without it, 400
    assert client.delete(reverse("users-me"), {}, format="json").status_code == 400
    wrong = client.delete(reverse("users-me"), {"password": "not it"}, format="json")
    assert wrong.status_code == 400
    assert not validator.errors(wrong.json(), _response_schema(operation, 400, schema))
    right = {"password": PASSWORD}
    assert not validator.errors(right, body_schema)
    deleted = client.delete(reverse("users-me"), right, format="json")
    assert deleted.status_code == 204
    assert deleted.content == b""


# --- statuses ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_write_on_a_public_food_is_a_documented_403(schema, auth_client, method):
    food = PublicFoodFactory()
    operation = schema["paths"]["/api/v1/foods/{id}/"][method]
    assert "403" in operation["responses"]
    response = getattr(auth_client, method)(reverse("foods-detail", args=[food.pk]), {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert not SchemaValidator(schema).errors(response.json(), _response_schema(operation, 403, schema))


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_write_on_a_built_in_measurement_type_is_a_documented_403(schema, auth_client, builtin_types, method):
    operation = schema["paths"]["/api/v1/measurement-types/{id}/"][method]
    assert "403" in operation["responses"]
    url = reverse("measurement-type-detail", args=[builtin_types["weight"].pk])
    response = getattr(auth_client, method)(url, {"name": "Mine"}, format="json")
    assert response.status_code == 403
    assert not SchemaValidator(schema).errors(response.json(), _response_schema(operation, 403, schema))


def test_every_detail_operation_answers_a_documented_404_for_an_unknown_id(schema, auth_client):
    validator = SchemaValidator(schema)
    checked = 0
    for path, method, operation in operations(schema):
        if "{id}" not in path:
            continue
        response = getattr(auth_client, method)(_url(path, {}), {} if method == "get" else None, format="json")
        assert response.status_code == 404, (method, path, response.status_code)
        assert "404" in operation["responses"], (method, path)
        assert not validator.errors(response.json(), _response_schema(operation, 404, schema)), (method, path)
        checked += 1
    assert checked >= 20


def test_204s_have_no_content(schema):
    seen = 0
    for path, method, operation in operations(schema):
        if "204" in operation["responses"]:
            seen += 1
            assert "content" not in operation["responses"]["204"], (method, path)
            assert not any(status.startswith("2") and status != "204" for status in operation["responses"]), path
    assert seen >= 12


# --- one enum per concept -----------------------------------------------------------------


def test_a_goals_direction_is_one_enum_everywhere(schema):
    schemas = schema["components"]["schemas"]
    assert schemas["GoalDirectionEnum"]["enum"] == ["down", "up"]
    for name in ("Goal", "GoalProgress"):
        direction = schemas[name]["properties"]["direction"]
        assert direction["allOf"] == [{"$ref": "#/components/schemas/GoalDirectionEnum"}], name
    assert "DirectionEnum" not in schemas


# --- servers -----------------------------------------------------------------------------


def test_servers_start_with_the_host_serving_the_schema(schema):
    # A relative URL: Swagger UI's Try it out calls the host it was loaded from.
    assert schema["servers"][0]["url"] == "/"


def test_the_public_url_is_listed_after_it():
    from fithub.settings import api_servers

    assert [server["url"] for server in api_servers("")] == ["/"]
    assert [server["url"] for server in api_servers("https://api.fithub.example/")] == [
        "/",
        "https://api.fithub.example",
    ]


# --- examples ----------------------------------------------------------------------------


def test_every_example_is_an_instance_of_its_schema(schema):
    validator = SchemaValidator(schema)
    found = list(examples(schema))
    assert len(found) >= 40
    wrong = {where: errors for where, value, of in found if (errors := validator.errors(value, of))}
    assert wrong == {}


def test_the_validator_catches_a_wrong_example(schema):
    # The checks above can fail: the mistakes issue 16 found are caught.
    validator = SchemaValidator(schema)
    log = schema["paths"]["/api/v1/meals/{id}/log/"]["post"]
    assert validator.errors(
        {"consumed_at": "2026-11-21T08:00:00Z", "meal": "breakfast"}, _response_schema(log, 201, schema)
    )
    page = _response_schema(schema["paths"]["/api/v1/diary/"]["get"], 200, schema)
    assert validator.errors({"next": None, "previous": None, "results": [{"id": "x"}]}, page)
    assert validator.errors({"next": 'https://x.example/?cursor=cD00ODY%3D"', "previous": None, "results": []}, page)
    latest = _response_schema(schema["paths"]["/api/v1/measurements/latest/"]["get"], 200, schema)
    assert validator.errors([{"latest": {"latest": {}}}], latest)


# --- required: what the server always sends -------------------------------------------------


def _journey(client: APIClient, builtin_types) -> tuple[list, dict[str, str], dict[str, dict]]:
    """A populated account through the API: (method, path template, status, body) of every
    success answer, creates first, then every read."""
    seen: list[tuple[str, str, int, object]] = []
    ids: dict[str, str] = {}
    today = timezone.localdate()
    now = timezone.now()

    def call(method: str, template: str, data=None, *, status: int, params=None) -> dict:
        url = _url(template, ids)
        if method == "get":
            response = client.get(url, params or {})
        else:
            response = getattr(client, method)(url, data, format="json")
        assert response.status_code == status, (method, template, response.status_code, response.content[:500])
        body = response.json() if response.content else None
        seen.append((method, template, status, body))
        return body

    call("post", "/api/v1/auth/register/", {"email": "journey@example.com", "password": PASSWORD}, status=201)
    pair = call("post", "/api/v1/auth/token/", {"email": "journey@example.com", "password": PASSWORD}, status=200)
    pair = call("post", "/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}, status=200)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    public = PublicFoodFactory(name="Truthful oats")
    food = call(
        "post",
        "/api/v1/foods/",
        {"name": "Porridge", "energy_kcal": 120, "portions": [{"description": "1 bowl", "grams": 250}]},
        status=201,
    )
    ids["/api/v1/foods/{id}/"] = food["id"]
    preference = call("post", "/api/v1/food-preferences/", {"food": str(public.pk), "allergy": True}, status=201)
    ids["/api/v1/food-preferences/{id}/"] = preference["id"]
    meal = call(
        "post",
        "/api/v1/meals/",
        {"name": "Breakfast", "slot": "breakfast", "weekdays": EVERY_DAY,
         "items": [{"food": food["id"], "grams": 200}, {"food": str(public.pk), "grams": 40}]},
        status=201,
    )  # fmt: skip
    ids["/api/v1/meals/{id}/"] = meal["id"]
    ids["/api/v1/meals/{id}/log/"] = meal["id"]
    entry = call(
        "post",
        "/api/v1/diary/",
        {"food": food["id"], "portion": food["portions"][0]["id"], "quantity": 1, "meal": "lunch",
         "consumed_at": now.isoformat()},
        status=201,
    )  # fmt: skip
    ids["/api/v1/diary/{id}/"] = entry["id"]
    call(
        "post",
        "/api/v1/diary/",
        {"label": "Coffee", "energy_kcal": 5, "meal": "snack", "consumed_at": now.isoformat()},
        status=201,
    )
    call("post", "/api/v1/meals/{id}/log/", {"consumed_at": now.isoformat()}, status=201)
    stew = call(
        "post",
        "/api/v1/meals/",
        {"name": "Stew", "servings": 4, "cooked_weight_g": 800, "items": [{"food": food["id"], "grams": 400}]},
        status=201,
    )
    ids["/api/v1/meals/{id}/log/"] = stew["id"]
    call("post", "/api/v1/meals/{id}/log/", {"servings": 1.5, "meal": "dinner"}, status=201)
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    call("post", "/api/v1/diary/copy/", {"from_date": today.isoformat(), "to_date": yesterday}, status=201)
    water = call("post", "/api/v1/water/", {"value": 8, "unit": "fl_oz", "consumed_at": now.isoformat()}, status=201)
    ids["/api/v1/water/{id}/"] = water["id"]
    call("post", "/api/v1/water/", {"ml": 500, "consumed_at": now.isoformat()}, status=201)
    call("patch", "/api/v1/water/{id}/", {"value": 12}, status=200)
    kind = call("post", "/api/v1/measurement-types/", {"name": "Grip", "unit": "kg"}, status=201)
    ids["/api/v1/measurement-types/{id}/"] = kind["id"]
    weights = [
        {"type": "weight", "value": 80 - day * 0.2, "measured_at": (now - dt.timedelta(days=10 - day)).isoformat()}
        for day in range(8)
    ]
    call("post", "/api/v1/measurements/bulk/", {"items": weights}, status=201)
    measurement = call(
        "post",
        "/api/v1/measurements/",
        {"type": "weight", "value": 170, "unit": "lb", "measured_at": now.isoformat(), "note": "morning"},
        status=201,
    )
    ids["/api/v1/measurements/{id}/"] = measurement["id"]
    goal = call(
        "post",
        "/api/v1/goals/",
        {"type": "weight", "target_value": 70, "target_date": (today + dt.timedelta(days=90)).isoformat()},
        status=201,
    )
    ids["/api/v1/goals/{id}/"] = goal["id"]
    ids["/api/v1/goals/{id}/progress/"] = goal["id"]
    target = call(
        "post",
        "/api/v1/nutrition-targets/",
        {"energy_kcal": 2000, "protein_g": 120, "water_ml": 2000,
         "effective_from": (today - dt.timedelta(days=7)).isoformat()},
        status=201,
    )  # fmt: skip
    ids["/api/v1/nutrition-targets/{id}/"] = target["id"]
    call("patch", "/api/v1/goals/{id}/", {"target_value": 71}, status=200)
    call("patch", "/api/v1/users/me/", {"display_name": "Ada"}, status=200)
    new_password = {"old_password": PASSWORD, "new_password": "a longer passphrase still"}
    pair = call("post", "/api/v1/users/me/password/", new_password, status=200)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    week = {"start": (today - dt.timedelta(days=6)).isoformat(), "end": today.isoformat()}
    reads = {
        "/api/v1/diary/summary/": week,
        "/api/v1/nutrition-targets/adherence/": week,
        "/api/v1/meals/planned/": {"date": today.isoformat()},
        "/api/v1/measurements/trend/": {"type": "weight"},
        "/api/v1/diary/": {"page_size": 1},  # a next link
        "/api/v1/measurements/": {"page_size": 2},
    }
    return seen, ids, reads


def test_every_response_property_is_required(schema):
    # What generated clients read: no `X | Unset` for what the server always sends.
    checked = 0
    for _path, _method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            node = response.get("content", {}).get("application/json", {}).get("schema")
            if node is None:
                continue
            for name in _components_under(schema, node):
                component = schema["components"]["schemas"][name]
                assert sorted(component.get("required", [])) == sorted(component["properties"]), name
                checked += 1
    assert checked >= 60


def _components_under(schema: dict, node, seen=None) -> set[str]:
    """The names of the object components reachable from `node`."""
    seen = set() if seen is None else seen
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                _components_under(schema, schema["components"]["schemas"][name], seen)
        for value in node.values():
            _components_under(schema, value, seen)
    elif isinstance(node, list):
        for value in node:
            _components_under(schema, value, seen)
    return {name for name in seen if schema["components"]["schemas"][name].get("properties")}


def test_real_responses_are_instances_with_every_required_key_and_no_other(schema, builtin_types):
    """Every success response of a populated account, creates and every read, is valid
    against its documented schema; every object in it that a component describes has
    exactly the component's properties (all required); and every resource component of
    a success response is met at least once."""
    client = APIClient()
    seen, ids, reads = _journey(client, builtin_types)
    for path, method, _operation in operations(schema):
        if method != "get":
            continue
        url = _url(path, ids)
        response = client.get(url, reads.get(path, {}))
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        seen.append(("get", path, 200, response.json()))
    validator = SchemaValidator(schema)
    met: dict[str, int] = {}
    for method, path, status, body in seen:
        operation = schema["paths"][path][method]
        node = _response_schema(operation, status, schema)
        assert node is not None, (method, path, status)
        assert validator.errors(body, node) == [], (method, path, status)
        for name, value in instances(schema, node, body):
            component = schema["components"]["schemas"][name]
            assert set(value) == set(component["properties"]), (method, path, name)
            assert set(component["required"]) == set(value), (method, path, name)
            met[name] = met.get(name, 0) + 1
    expected = set()
    for _path, _method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                node = response.get("content", {}).get("application/json", {}).get("schema")
                if node is not None:
                    expected |= _components_under(schema, node)
    assert expected - set(met) == set()


def _nodes(node, where=""):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nodes(value, f"{where}/{index}")


def test_nullable_is_always_beside_a_type(schema):
    # OpenAPI 3.0.3 ignores `nullable` without `type`; a nullable nested object is "it or null".
    assert [where for where, node in _nodes(schema) if node.get("nullable") is True and "type" not in node] == []
    for name in ("DailySummary", "AdherenceDay"):
        target = schema["components"]["schemas"][name]["properties"]["target"]
        assert target["oneOf"] == [
            {"$ref": "#/components/schemas/TargetInForce"},
            {"type": "object", "nullable": True, "enum": [None]},
        ]
        assert SchemaValidator(schema).errors(None, target) == []
