import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client):
    return api_client.get("/api/schema/", {"format": "json"}).json()


def test_list_item_errors_are_documented_with_the_real_index(schema):
    schemas = schema["components"]["schemas"]
    attr = schemas["MeasurementsBulkCreateItemsINDEXValueErrorComponent"]["properties"]["attr"]
    assert re.search(attr["pattern"], "items.12.value")
    assert not re.search(attr["pattern"], "items.INDEX.value")
    assert not re.search(attr["pattern"], "items.1.value.x")
    assert "discriminator" not in schemas["MeasurementsBulkCreateError"]


@pytest.mark.parametrize("path", ["/api/v1/measurements/", "/api/v1/goals/", "/api/v1/measurement-types/"])
def test_a_re_sent_id_200_is_documented_on_creates(schema, path):
    responses = schema["paths"][path]["post"]["responses"]
    assert (
        responses["200"]["content"]["application/json"]["schema"]
        == (responses["201"]["content"]["application/json"]["schema"])
    )
