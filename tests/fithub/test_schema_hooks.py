import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    return api_client.get("/api/schema/", {"format": "json"}).json()


def test_list_item_errors_are_documented_with_the_real_index(schema):
    documented = schema["paths"]["/api/v1/measurements/bulk/"]["post"]["responses"]["400"]["x-error-codes"]
    [value] = [entry for entry in documented if entry["attr"] == "items.N.value"]
    assert re.search(value["pattern"], "items.12.value")
    assert not re.search(value["pattern"], "items.INDEX.value")
    assert not re.search(value["pattern"], "items.1.value.x")
    assert not any("INDEX" in str(entry) for entry in documented)


@pytest.mark.parametrize("path", ["/api/v1/measurements/", "/api/v1/goals/", "/api/v1/measurement-types/"])
def test_a_re_sent_id_200_is_documented_on_creates(schema, path):
    responses = schema["paths"][path]["post"]["responses"]
    assert (
        responses["200"]["content"]["application/json"]["schema"]
        == (responses["201"]["content"]["application/json"]["schema"])
    )


DETAIL_ACTIONS = {"retrieve", "update", "partial_update", "destroy"}


def _view_operations():
    """(viewset class, action, path, method, operationId) of every operation, from the views."""
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    operations = []
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        action = getattr(view, "action", None)
        operation = schema["paths"].get(path, {}).get(method.lower())
        if action and operation:
            operations.append((type(view), action, path, method.lower(), operation["operationId"]))
    return schema, operations


def _is_detail(view_class, action: str) -> bool:
    handler = getattr(view_class, action, None)
    return action in DETAIL_ACTIONS or getattr(handler, "detail", False) is True


def test_every_create_links_to_every_operation_on_its_row():
    """Computed from the viewsets (not the paths the hook reads): each create's 201 links to
    each detail operation of the same viewset, by an operationId that exists, filling the
    path parameters that operation has from the created body's id."""
    schema, operations = _view_operations()
    by_id = {
        operation["operationId"]: (path, operation)
        for path, item in schema["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    checked = 0
    for view_class, action, path, method, _operation_id in operations:
        if action != "create" or method != "post":
            continue
        detail = {op_id for cls, act, _p, _m, op_id in operations if cls is view_class and _is_detail(cls, act)}
        links = schema["paths"][path]["post"]["responses"]["201"].get("links", {})
        assert {link["operationId"] for link in links.values()} == detail, path
        for link in links.values():
            target_path, target = by_id[link["operationId"]]
            in_path = set(re.findall(r"\{([^}]+)\}", target_path))
            declared = {p["name"] for p in target.get("parameters", []) if p["in"] == "path"}
            assert set(link["parameters"]) == in_path == declared, (path, link)
            assert set(link["parameters"].values()) == {"$response.body#/id"}
        checked += bool(detail)
    assert checked >= 8  # diary, foods, food preferences, meals, measurement types, measurements, goals, targets


def test_a_create_without_an_id_in_its_body_has_no_links(schema):
    for path in ("/api/v1/measurements/bulk/", "/api/v1/meals/{id}/log/"):
        assert "links" not in schema["paths"][path]["post"]["responses"]["201"]
