"""Malformed input answers 4xx in the one error shape, never 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

REGISTER = reverse("auth-register")


def assert_error_shape(response, status):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["type"] in {"validation_error", "client_error"}
    assert body["errors"]
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"email": "a@example.com", "password": NaN}',
        b'{"email": "a@example.com", "password": Infinity}',
        b'{"email": 1' + b"0" * 5000 + b"}",
        b"\xff\xfe\x00garbage",
    ],
)
def test_malformed_json_is_a_400_parse_error(client, body):
    response = client.post(REGISTER, body, content_type="application/json")
    assert_error_shape(response, 400)


@pytest.mark.parametrize("body", [b"[]", b'"a string"', b"42", b"null"])
def test_json_that_is_not_an_object_is_a_400(client, body):
    assert_error_shape(client.post(REGISTER, body, content_type="application/json"), 400)


def test_wrong_types_are_field_errors(client):
    response = client.post(
        REGISTER, {"email": ["a@example.com"], "password": {"x": 1}}, content_type="application/json"
    )
    assert_error_shape(response, 400)
    assert {error["attr"] for error in response.json()["errors"]} == {"email", "password"}


def test_a_10_mb_body_is_refused_with_413(client):
    big = b'{"email": "a@example.com", "password": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = client.post(REGISTER, big, content_type="application/json")
    assert_error_shape(response, 413)
    assert response.json()["errors"][0]["code"] == "request_too_large"


def test_form_encoded_body_is_415(client):
    response = client.post(REGISTER, "email=a@example.com", content_type="application/x-www-form-urlencoded")
    assert_error_shape(response, 415)


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert_error_shape(response, 404)


def test_wrong_method_is_405(auth_client):
    assert_error_shape(auth_client.put(reverse("users-me"), {}), 405)
