"""Property-based fuzzing of every operation in our own OpenAPI schema (schemathesis).

Each operation gets FUZZ_EXAMPLES generated requests (valid and invalid), sent with a
valid token through the WSGI app. Every response must be a non-5xx, with a status code,
content type, headers and body that the schema documents.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fithub.wsgi import application
from tests.conftest import access_token_for

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,  # Retry-After on 429/503, RateLimit's syntax (fithub.api.schema_hooks)
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def _keep_test_connection():
    """Django closes connections at the end of each request, which would end the test's
    transaction; its own test client disconnects that handler too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_headers(user, throttle_rates, _keep_test_connection):
    # Generous budgets: the fuzzer sends hundreds of requests in a second.
    throttle_rates(
        user="100000/min",
        anon="100000/min",
        ip="100000/min",
        login_ip="100000/min",
        login_account="100000/min",
        register="100000/min",
    )
    return {"Authorization": f"Bearer {access_token_for(user)}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_survives_fuzzing(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
