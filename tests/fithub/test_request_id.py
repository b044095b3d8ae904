import json
import logging
import re

import pytest
from django.urls import reverse

from fithub.ops.logs import JsonFormatter, RequestIdFilter
from fithub.ops.request_id import get_request_id

LIVE = reverse("health-live")


def test_the_request_id_from_nginx_is_echoed(client):
    response = client.get(LIVE, HTTP_X_REQUEST_ID="4f9c2a7d0e1b4c6a8d3e5f7a9b1c2d3e")
    assert response["X-Request-ID"] == "4f9c2a7d0e1b4c6a8d3e5f7a9b1c2d3e"


@pytest.mark.parametrize("sent", [None, "", "short", "has spaces in it", "x" * 200, "evil\u2028id-12345", "a;b=c<d>e"])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_new_one(client, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    first = client.get(LIVE, **headers)["X-Request-ID"]
    second = client.get(LIVE, **headers)["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_error_responses_carry_the_request_id_too(client):
    response = client.get("/no/such/page/", HTTP_X_REQUEST_ID="req-0001-abcdef")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-0001-abcdef"


def _format(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_log_records_written_during_a_request_carry_its_id(client, monkeypatch):
    seen = []
    original = RequestIdFilter.filter

    def spy(self, record):
        original(self, record)
        seen.append(record)
        return True

    monkeypatch.setattr(RequestIdFilter, "filter", spy)
    # A 404 is logged by django.request while the request runs.
    client.get("/no/such/page/", HTTP_X_REQUEST_ID="req-0002-abcdef")
    records = [record for record in seen if record.name == "django.request"]
    assert records, "django.request logs the 404"
    assert {record.request_id for record in records} == {"req-0002-abcdef"}
    assert get_request_id() is None  # reset once the request is over


def test_json_formatter_writes_one_object_with_the_fields_operators_query():
    record = logging.LogRecord("fithub.test", logging.WARNING, __file__, 1, "disk %s", ("full",), None)
    record.user_id = 42
    line = _format(record)
    assert line["level"] == "WARNING"
    assert line["logger"] == "fithub.test"
    assert line["message"] == "disk full"
    assert line["request_id"] is None
    assert line["user_id"] == 42
    assert "timestamp" in line
