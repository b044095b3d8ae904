import re

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/users/me/" in (tmp_path / "schema.yml").read_text()


def test_schema_documents_the_error_shape_and_bearer_auth(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    me = schema["paths"]["/api/v1/users/me/"]["patch"]
    assert {"400", "401"} <= set(me["responses"])


def test_swagger_ui_is_served_without_a_cdn(client):
    response = client.get(reverse("swagger-ui"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "swagger-ui-standalone-preset" not in html  # unused by the BaseLayout: not loaded


def test_redoc_is_served(client):
    response = client.get(reverse("redoc"))
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in response.content.decode()


@pytest.mark.parametrize("name", ["swagger-ui", "redoc"])
def test_the_docs_pages_reference_no_other_host(client, name):
    """No CDN, no web fonts: every URL in the page is a path on this server (or data:)."""
    html = client.get(reverse(name)).content.decode()
    assert not re.findall(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html)
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html):
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
    assert "fonts.googleapis.com" not in html


def test_replays_of_deleted_rows_and_differing_ids_are_documented(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    keyed = ["/api/v1/diary/", "/api/v1/foods/", "/api/v1/food-preferences/", "/api/v1/meals/{id}/log/"]
    keyed += ["/api/v1/measurements/bulk/", "/api/v1/measurement-types/", "/api/v1/goals/"]
    for path in keyed:
        responses = schema["paths"][path]["post"]["responses"]
        assert {"410", "422"} <= set(responses), path
    for path in ("/api/v1/diary/", "/api/v1/food-preferences/", "/api/v1/goals/"):
        assert {"200", "201", "409"} <= set(schema["paths"][path]["post"]["responses"]), path
    gone = schema["components"]["schemas"]["ErrorResponse410"]["properties"]["errors"]["items"]["$ref"]
    assert gone.endswith("/Error410")


def test_every_operation_documents_nginxs_414(client):
    # nginx answers a request line over its 8k buffer with its JSON 414 (nginx/nginx.conf).
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 50
    for path, method, operation in operations:
        assert "414" in operation["responses"], (method, path)
    errors = schema["components"]["schemas"]["Error414"]["properties"]["code"]
    assert schema["components"]["schemas"][errors["$ref"].rsplit("/", 1)[-1]]["enum"] == ["uri_too_long"]


def test_every_operation_has_a_summary_of_its_own(client):
    # The one-line name Swagger UI, ReDoc and generated clients show (Redocly's operation-summary).
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    summaries = [operation.get("summary", "") for _, _, operation in operations]
    assert all(summaries), [(method, path) for path, method, operation in operations if not operation.get("summary")]
    assert len(set(summaries)) == len(summaries), sorted(
        summary for summary in summaries if summaries.count(summary) > 1
    )


def test_every_operation_tag_is_declared_and_described_once(client):
    # Swagger UI and ReDoc group operations by the declared tags (Spectral's operation-tag-defined).
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    declared = [tag["name"] for tag in schema["tags"]]
    assert len(declared) == len(set(declared))
    assert all(tag["description"] for tag in schema["tags"])
    used = {tag for item in schema["paths"].values() for operation in item.values() for tag in operation["tags"]}
    assert used == set(declared)


# --- shared error components ---------------------------------------------------------------


@pytest.fixture
def served(client):
    return client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_error_bodies_are_shared_components_not_one_set_per_operation(served):
    schemas = served["components"]["schemas"]
    # About 150, and 23 of the sync feed's (a change component and its type per synced type).
    assert len(schemas) < 180, len(schemas)
    per_operation = [name for name in schemas if name.endswith("ErrorComponent") or name.endswith("ValidationError")]
    assert per_operation == ["ValidationError"]
    for status in ("401", "403", "404", "405", "406", "409", "410", "413", "414", "415", "422", "429", "500", "503"):
        body = schemas[f"ErrorResponse{status}"]
        code = schemas[body["properties"]["errors"]["items"]["$ref"].rsplit("/", 1)[-1]]["properties"]["code"]
        assert code["$ref"] == f"#/components/schemas/ErrorCode{status}Enum", status
    assert schemas["ValidationError"]["properties"]["attr"]["nullable"] is True


def test_every_error_response_but_the_400_is_a_shared_response(served):
    shared = served["components"]["responses"]
    used = set()
    operations = [op for item in served["paths"].values() for op in item.values()]
    for operation in operations:
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and status != "400":
                name = response["$ref"].rsplit("/", 1)[-1]
                body = shared[name]["content"]["application/json"]["schema"]
                assert body == {"$ref": f"#/components/schemas/ErrorResponse{status}"}
                assert shared[name]["description"]
                used.add(name)
    assert used == set(shared)
    assert shared["TooManyRequests"]["headers"]["Retry-After"]["required"] is True
    assert shared["NotFound"]["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}


def test_each_400_documents_its_attrs_and_codes_as_an_extension_and_a_table(served):
    checked = 0
    for item in served["paths"].values():
        for operation in item.values():
            response = operation["responses"].get("400")
            if response is None:
                continue
            body = response["content"]["application/json"]["schema"]["$ref"]
            documented = response.get("x-error-codes")
            if documented is None:
                assert body == "#/components/schemas/ParseErrorResponse"
                continue
            assert body == "#/components/schemas/ErrorResponse400"
            table = response["description"].split("\n\n", 1)[1].splitlines()[2:]
            assert len(table) == len(documented)
            for row, entry in zip(table, documented, strict=True):
                attr, codes = (cell.strip() for cell in row.strip("|").split("|"))
                assert attr == ("null (the body as a whole)" if entry["attr"] is None else f"`{entry['attr']}`")
                assert codes == ", ".join(f"`{code}`" for code in entry["codes"])
                assert entry["codes"] == sorted(set(entry["codes"]))
                if "pattern" in entry:
                    assert re.fullmatch(entry["pattern"], entry["attr"].replace("N", "7"))
                    assert not re.fullmatch(entry["pattern"], entry["attr"])
                else:
                    assert entry["attr"] is None or ".N" not in entry["attr"]
            checked += 1
    assert checked >= 30
