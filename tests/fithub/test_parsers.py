"""JSON bodies of any shape are a 4xx or an answer, never a 500: nesting, numbers, encodings."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fithub.api.parsers import MAX_DEPTH, depth_of
from tests.conftest import client_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db
JSON_ENDPOINTS = [
    "/api/v1/auth/token/",
    "/api/v1/auth/register/",
    "/api/v1/diary/",
    "/api/v1/measurements/bulk/",
    "/api/v1/meals/",
]


def _post(client, url: str, body: bytes):
    return client.post(url, body, content_type="application/json")


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("url", JSON_ENDPOINTS)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
def test_a_body_nested_too_deep_is_a_400(url, depth):
    response = _post(client_for(UserFactory()), url, _nested(depth))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


@pytest.mark.parametrize(
    "body",
    [
        b'{"grams": NaN}',
        b'{"grams": Infinity}',
        b'{"label": "\\ud800"}',  # a lone surrogate: no database can store it
        b'{"grams": 1' + b"0" * 400 + b"}",
        b"\xff\xfe{}",
        b'{"a": 1,}',
        b"",
    ],
)
def test_bodies_no_field_can_hold_are_a_400(body):
    response = _post(client_for(UserFactory()), "/api/v1/diary/", body)
    assert response.status_code == 400


def test_depth_is_counted_as_nesting():
    assert [depth_of(value) for value in (1, [], {}, [[1]], {"a": [{"b": 1}]}, [1, [2, [3]]])] == [0, 1, 1, 2, 3, 3]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=JSON, url=st.sampled_from(JSON_ENDPOINTS), nest=st.integers(0, 40))
def test_any_json_is_a_4xx_or_an_answer(user, value, url, nest):
    body = json.dumps(value).encode()
    body = b"[" * nest + body + b"]" * nest
    response = _post(client_for(user), url, body)
    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
