"""GET /api/schema/ serves a schema built once per process (fithub.api.schema_view), the
same as a fresh build, with an ETag a browser revalidates against."""

import json

import pytest
import yaml
from django.test import RequestFactory
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.renderers import JSONRenderer

from fithub.api import schema_view

pytestmark = pytest.mark.django_db
JSON = "application/vnd.oai.openapi+json"
YAML = "application/vnd.oai.openapi"


@pytest.fixture
def builds(monkeypatch):
    """How many times the schema is generated, starting from an empty cache."""
    schema_view.clear()
    calls = []
    generate = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(args)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    yield calls
    schema_view.clear()


def test_the_second_request_does_not_build_the_schema_again(client, builds, django_assert_num_queries):
    first = client.get(reverse("schema"), HTTP_ACCEPT=JSON)
    assert first.status_code == 200
    assert len(builds) == 1
    with django_assert_num_queries(0):
        again = [
            client.get(reverse("schema"), HTTP_ACCEPT=JSON),
            client.get(reverse("schema"), {"format": "json"}),
            client.get(reverse("schema"), HTTP_ACCEPT=YAML),
            client.get(reverse("schema"), HTTP_ACCEPT="application/yaml"),
            # Values that change nothing make no other copy: no such version, no such language.
            client.get(reverse("schema"), {"format": "json", "version": "9", "lang": "xx-nope"}),
        ]
    assert [response.status_code for response in again] == [200] * 5
    assert len(builds) == 1
    assert again[0].content == first.content
    assert again[4].content == first.content


def test_the_served_schema_is_a_fresh_build(client, builds):
    served = client.get(reverse("schema"), HTTP_ACCEPT=JSON)
    fresh = json.loads(JSONRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    assert json.loads(served.content) == fresh
    assert yaml.safe_load(client.get(reverse("schema"), HTTP_ACCEPT=YAML).content) == fresh
    # ... and what drf-spectacular's own view builds for the request.
    request = RequestFactory().get(reverse("schema"), HTTP_ACCEPT=JSON)
    stock = SpectacularAPIView.as_view()(request).render()
    assert json.loads(stock.content) == fresh
    assert served["Content-Type"] == stock["Content-Type"] == JSON
    assert served["Content-Disposition"] == stock["Content-Disposition"]


def test_a_browser_revalidates_with_the_etag_and_gets_a_304(client, builds):
    response = client.get(reverse("schema"), HTTP_ACCEPT=JSON)
    etag = response["ETag"]
    assert etag.startswith('"')
    assert "no-cache" in response["Cache-Control"]
    assert "Accept" in response["Vary"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        revalidated = client.get(reverse("schema"), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=sent)
        assert revalidated.status_code == 304, sent
        assert revalidated.content == b""
        assert revalidated["ETag"] == etag
    changed = client.get(reverse("schema"), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH='"something-else"')
    assert changed.status_code == 200
    assert changed.content == response.content
    yaml_etag = client.get(reverse("schema"), HTTP_ACCEPT=YAML)["ETag"]
    assert yaml_etag != etag
    assert client.get(reverse("schema"), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=yaml_etag).status_code == 200
    assert len(builds) == 1


def test_an_unknown_accept_is_a_406_not_a_build(client, builds):
    response = client.get(reverse("schema"), HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert builds == []


def test_warm_builds_every_format_without_the_database(builds, django_assert_num_queries):
    with django_assert_num_queries(0):
        sizes = schema_view.warm()
    assert len(builds) == 1
    assert set(sizes) == {YAML, "application/yaml", JSON, "application/json"}
    assert 100_000 < sizes[JSON] < 600_000, sizes
