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
