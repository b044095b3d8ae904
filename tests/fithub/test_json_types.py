"""StrictJSONTypes: a JSON body's value of another type than the schema's is a 400 naming
the field (DRF alone coerces false to 0.0, 0 to "0", "yes" to True); query strings are not
JSON and keep DRF's parsing."""

import pytest
from django.http import QueryDict
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from fithub.api.serializers import StrictJSONTypes


class Sample(StrictJSONTypes):
    flag = serializers.BooleanField(required=False)
    count = serializers.IntegerField(required=False)
    amount = serializers.FloatField(required=False)
    label = serializers.CharField(required=False)
    slot = serializers.ChoiceField(choices=["lunch", "dinner"], required=False)
    day = serializers.DateField(required=False)


SCALARS = {
    "boolean": st.booleans(),
    "integer": st.integers(min_value=-(10**6), max_value=10**6),
    "number": st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    "string": st.text(max_size=5),
}
CONTAINERS = [st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.none())]
JSON = st.one_of(*SCALARS.values(), *CONTAINERS)
KINDS = {"flag": "boolean", "count": "integer", "amount": "number"} | dict.fromkeys(["label", "slot", "day"], "string")
ACCEPTS = {"boolean": (bool,), "integer": (int,), "number": (int, float), "string": (str,)}


def _of_kind(value, kind: str) -> bool:
    return isinstance(value, ACCEPTS[kind]) and (kind == "boolean" or not isinstance(value, bool))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(KINDS)), value=JSON)
def test_a_value_of_another_json_type_is_refused(name, value):
    serializer = Sample(data={name: value})
    valid = serializer.is_valid()
    if not _of_kind(value, KINDS[name]):
        assert not valid
        assert serializer.errors[name][0].code in {"invalid", "invalid_choice"}


@pytest.mark.parametrize(
    ("name", "value"), [("flag", True), ("count", 3), ("amount", 2), ("amount", 2.5), ("label", "x"), ("slot", "lunch")]
)
def test_a_value_of_the_schemas_type_is_taken(name, value):
    serializer = Sample(data={name: value})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data[name] == value


def test_query_strings_keep_drfs_parsing():
    serializer = Sample(data=QueryDict("flag=true&count=3&amount=2.5&label=7&day=2026-01-02"))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["count"] == 3


@pytest.mark.django_db
def test_register_refuses_a_number_for_a_string(client):
    body = {"email": "ada@example.com", "password": "a-long-enough-password", "display_name": -6.8e16}
    response = client.post(reverse("auth-register"), body, content_type="application/json")
    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("display_name", "invalid")]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["goal-list", "measurement-list"])
def test_an_empty_measurement_type_is_a_400(auth_client, path):
    # `type` is a key or an id (not a primary-key relation): "" is refused as DRF refuses it.
    body = {"type": "", "value": 70, "target_value": 65, "start_value": 70, "target_date": "2027-01-01"}
    response = auth_client.post(reverse(path), body, format="json")
    assert response.status_code == 400, response.content
    assert "type" in [e["attr"] for e in response.json()["errors"]]
