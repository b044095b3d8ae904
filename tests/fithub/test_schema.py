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


def test_redoc_is_served(client):
    response = client.get(reverse("redoc"))
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/redoc" in response.content.decode()


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
