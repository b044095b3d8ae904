"""Edges of input outside the bodies: days at the ends of the calendar in every day query,
error pages under /api/ (JSON whatever DEBUG says), and paths without their trailing slash."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fithub.api.middleware import JsonErrorsMiddleware
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DAY_QUERIES = {
    "summary": lambda day: ("/api/v1/diary/summary/", {"start": day, "end": day}),
    "adherence": lambda day: ("/api/v1/nutrition-targets/adherence/", {"start": day, "end": day}),
    "trend end": lambda day: ("/api/v1/measurements/trend/", {"type": "weight", "end": day}),
    "trend start": lambda day: ("/api/v1/measurements/trend/", {"type": "weight", "start": day, "end": "2999-12-31"}),
    "planned": lambda day: ("/api/v1/meals/planned/", {"date": day}),
    "diary date": lambda day: ("/api/v1/diary/", {"date": day}),
    "diary after": lambda day: ("/api/v1/diary/", {"date_after": day}),
}


@CHECKS
@given(day=st.dates(), query=st.sampled_from(sorted(DAY_QUERIES)))
def test_any_day_of_the_calendar_is_an_answer_or_a_400_naming_it(user, builtin_types, day, query):
    url, params = DAY_QUERIES[query](day.isoformat())
    response = client_for(user).get(url, params)
    assert response.status_code in (200, 400), (query, day, response.content[:300])
    if response.status_code == 400:
        assert {error["attr"] for error in response.json()["errors"]} <= set(params)


@pytest.mark.parametrize("query", sorted(DAY_QUERIES))
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31", "9999-12-25"])
def test_days_at_the_ends_of_the_calendar(user, builtin_types, query, day):
    url, params = DAY_QUERIES[query](day)
    response = client_for(user).get(url, params)
    assert response.status_code in (200, 400)
    if query.startswith("diary "):
        assert response.status_code == 200  # a filter: no day arithmetic, simply nothing found
        assert response.json()["results"] == []


def test_the_last_supported_day_answers_correctly(user):
    body = client_for(user).get("/api/v1/diary/summary/", {"start": "2999-12-31", "end": "2999-12-31"}).json()
    assert [day["date"] for day in body["days"]] == ["2999-12-31"]
    assert body["days"][0]["entry_count"] == 0


@override_settings(DEBUG=True)
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/api/v1/nope/", 404), ("get", "/api/v1/diary/not-a-uuid/x/", 404), ("put", "/api/v1/diary/", 405)],
)
def test_no_error_page_under_the_api_is_html_even_with_debug(user, method, path, status):
    response = getattr(client_for(user), method)(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["attr"] is None


def test_an_html_error_of_any_layer_becomes_the_error_shape():
    page = HttpResponse("<html>Traceback ... DATABASE_URL=postgres://secret</html>", status=500)
    page["Retry-After"] = "5"
    response = JsonErrorsMiddleware(lambda request: page)(RequestFactory().get("/api/v1/diary/"))
    assert response.status_code == 500
    assert json.loads(response.content) == {
        "type": "server_error",
        "errors": [{"code": "error", "detail": "Internal Server Error.", "attr": None}],
    }
    assert response["Retry-After"] == "5"
    assert b"secret" not in response.content
    outside = JsonErrorsMiddleware(lambda request: page)(RequestFactory().get("/admin/"))
    assert outside is page


@override_settings(DEBUG=True)
def test_a_disallowed_host_is_a_json_400(user):
    response = client_for(user).get("/api/v1/diary/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")


@override_settings(DEBUG=True)
@pytest.mark.parametrize("debug", [True, False])
def test_a_path_without_its_trailing_slash_simply_works(user, debug):
    client = client_for(user)
    with override_settings(DEBUG=debug):
        created = client.post(
            "/api/v1/diary",
            {"label": "Soup", "energy_kcal": 120, "meal": "lunch", "consumed_at": "2026-11-21T12:30:00+01:00"},
            format="json",
        )
        assert created.status_code == 201, created.content[:300]
        listed = client.get("/api/v1/diary")
        assert listed.status_code == 200
        assert [row["label"] for row in listed.json()["results"]] == ["Soup"]
        missing = client.post("/api/v1/nothing-here", {}, format="json")
        assert missing.status_code == 404
        assert missing["Content-Type"].startswith("application/json")
