"""What a generated client (a browser's above all) can rely on: CORS lets it send and read
every header the API speaks, and every throttled response says how much is left."""

import re

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from fithub.api.throttling import Quota, tightest
from tests.conftest import client_for
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db

ORIGIN = "https://app.fithub.example"
DIARY = reverse("diary-list")
TOKEN = reverse("auth-token")
SENT_HEADERS = ("authorization", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id")
EXPOSED = ("ETag", "Idempotent-Replayed", "RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-ID")

POLICY = re.compile(r'^"(?P<name>[a-z_]+)";q=(?P<q>[0-9]+);w=(?P<w>[0-9]+)$')
STATE = re.compile(r'^"(?P<name>[a-z_]+)";r=(?P<r>[0-9]+);t=(?P<t>[0-9]+)$')


@pytest.fixture(autouse=True)
def _allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]


def _names(value: str) -> set[str]:
    return {name.strip().lower() for name in value.split(",")}


def _rate_limit(response) -> tuple[dict, dict]:
    policy = POLICY.fullmatch(response["RateLimit-Policy"])
    state = STATE.fullmatch(response["RateLimit"])
    assert policy, response["RateLimit-Policy"]
    assert state, response["RateLimit"]
    assert policy["name"] == state["name"]
    return (
        {"name": policy["name"], "q": int(policy["q"]), "w": int(policy["w"])},
        {"r": int(state["r"]), "t": int(state["t"])},
    )


# --- CORS ---------------------------------------------------------------------------------


def test_a_browser_preflight_for_a_post_with_an_idempotency_key_is_allowed(api_client):
    response = api_client.options(
        DIARY,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in {method.strip() for method in response["Access-Control-Allow-Methods"].split(",")}
    assert set(SENT_HEADERS) <= _names(response["Access-Control-Allow-Headers"])


def test_an_actual_response_exposes_the_headers_a_client_reads(user):
    client = client_for(user)
    response = client.get(DIARY, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert {name.lower() for name in EXPOSED} <= _names(response["Access-Control-Expose-Headers"])
    # and the ones the API sets on this response are there to be read
    assert {"RateLimit", "RateLimit-Policy", "X-Request-ID"} <= set(response.headers)


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_response_is_readable_by_the_browser_too(api_client, settings, debug):
    # With DEBUG on, Django's HTML 404 page is replaced by the error shape (JsonErrorsMiddleware)
    settings.DEBUG = debug
    response = api_client.get(DIARY, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    missing = api_client.get("/api/v1/no-such-thing/", HTTP_ORIGIN=ORIGIN)
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")
    assert missing["Access-Control-Allow-Origin"] == ORIGIN


def test_an_origin_not_allowed_gets_no_cors_headers(api_client):
    response = api_client.options(
        DIARY,
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, idempotency-key",
    )
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


# --- RateLimit-Policy and RateLimit -------------------------------------------------------


def test_an_authenticated_response_counts_down_the_tightest_limit(throttle_rates):
    throttle_rates(user="50/min", ip="6000/min")
    client = client_for(UserFactory())
    seen = []
    for _ in range(4):
        response = client.get(DIARY)
        assert response.status_code == 200
        seen.append(_rate_limit(response))
    assert {policy["name"] for policy, _ in seen} == {"user"}
    assert {(policy["q"], policy["w"]) for policy, _ in seen} == {(50, 60)}
    assert [state["r"] for _, state in seen] == [49, 48, 47, 46]
    assert all(1 <= state["t"] <= 60 for _, state in seen)


def test_an_anonymous_response_carries_them(api_client, throttle_rates):
    throttle_rates(login_ip="7/min", login_account="100/min")
    body = {"email": "nobody@example.com", "password": "wrong-password"}
    first = api_client.post(TOKEN, body, format="json")
    second = api_client.post(TOKEN, body, format="json")
    assert first.status_code == second.status_code == 401
    assert _rate_limit(first) == ({"name": "login_ip", "q": 7, "w": 60}, {"r": 6, "t": _rate_limit(first)[1]["t"]})
    assert _rate_limit(second)[1]["r"] == 5
    schema = api_client.get(reverse("schema"), {"format": "json"})
    assert schema.status_code == 200
    assert _rate_limit(schema)[0]["name"] in {"anon", "ip"}


@pytest.mark.parametrize(
    ("rates", "expected"), [({"user": "3/min", "ip": "100/min"}, "user"), ({"user": "100/min", "ip": "3/min"}, "ip")]
)
def test_the_throttle_with_the_fewest_left_wins(throttle_rates, rates, expected):
    throttle_rates(**rates)
    client = client_for(UserFactory())
    policy, state = _rate_limit(client.get(DIARY))
    assert (policy["name"], policy["q"], state["r"]) == (expected, 3, 2)


def test_a_429_carries_them_beside_retry_after(throttle_rates):
    throttle_rates(user="2/min")
    client = client_for(UserFactory())
    statuses = [client.get(DIARY).status_code for _ in range(2)]
    refused = client.get(DIARY)
    assert statuses == [200, 200]
    assert refused.status_code == 429
    policy, state = _rate_limit(refused)
    assert (policy["name"], policy["q"], state["r"]) == ("user", 2, 0)
    assert int(refused["Retry-After"]) == state["t"]


def test_with_the_shared_cache_down_the_quota_is_this_processs_share(throttle_rates, settings, monkeypatch):
    from fithub.api import throttling

    throttle_rates(user="30/min", ip="6000/min")
    settings.INSTANCE_WORKERS = 3
    monkeypatch.setattr(throttling, "hit", lambda key, seconds: None)  # the shared cache unavailable
    client = client_for(UserFactory())
    first, second = (_rate_limit(client.get(DIARY)) for _ in range(2))
    assert first[0] == {"name": "user", "q": 10, "w": 60}  # 30 / 3 workers: what this process allows
    assert (first[1]["r"], second[1]["r"]) == (9, 8)


quotas = st.lists(
    st.builds(
        Quota,
        policy=st.sampled_from(["anon", "user", "ip"]),
        limit=st.integers(1, 10_000),
        window=st.integers(1, 86_400),
        remaining=st.integers(0, 10_000),
        reset=st.integers(1, 86_400),
    ),
    max_size=6,
)


@given(quotas)
def test_tightest_is_the_fewest_left_and_of_those_the_last_to_reset(found):
    chosen = tightest(found)
    if not found:
        assert chosen is None
        return
    assert chosen in found
    assert all(chosen.remaining <= quota.remaining for quota in found)
    assert all(chosen.reset >= quota.reset for quota in found if quota.remaining == chosen.remaining)


# --- the schema says so ------------------------------------------------------------------


@pytest.fixture
def schema(client):
    return client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _operations(schema):
    return [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]


def _response(schema, response: dict) -> dict:
    """A response, a shared one (`$ref` to components/responses) resolved."""
    while "$ref" in response:
        response = schema["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def test_every_response_of_every_operation_documents_the_rate_limit_and_request_id_headers(schema):
    operations = _operations(schema)
    assert len(operations) >= 50
    for path, method, operation in operations:
        for status, response in operation["responses"].items():
            headers = _response(schema, response).get("headers", {})
            for name in ("RateLimit-Policy", "RateLimit", "X-Request-ID"):
                assert headers.get(name) == {"$ref": f"#/components/headers/{name}"}, (method, path, status, name)
    components = schema["components"]["headers"]
    assert re.fullmatch(components["RateLimit-Policy"]["schema"]["pattern"], '"user";q=1200;w=60')
    assert re.fullmatch(components["RateLimit"]["schema"]["pattern"], '"login_ip";r=0;t=42')
    assert "draft-ietf-httpapi-ratelimit-headers-09" in components["RateLimit-Policy"]["description"]


def test_retry_after_is_a_required_header_of_every_429_and_503(schema):
    seen = 0
    for path, method, operation in _operations(schema):
        for status in ("429", "503"):
            if status in operation["responses"]:
                seen += 1
                header = _response(schema, operation["responses"][status])["headers"]["Retry-After"]
                assert header["required"] is True, (method, path, status)
                assert header["schema"]["type"] == "integer"
    assert seen >= 100


def test_the_idempotency_key_format_and_the_replay_header_are_documented(schema):
    operation = schema["paths"]["/api/v1/diary/"]["post"]
    [key] = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
    assert key["schema"]["minLength"] == 1
    assert key["schema"]["maxLength"] == 255
    pattern = key["schema"]["pattern"]
    assert re.fullmatch(pattern, "3f2c1e4a-0d9b-4a57-9c1e-6b2f8a7d5e10")
    assert not re.fullmatch(pattern, "caf\u00e9")
    assert not re.fullmatch(pattern, "tab\there")
    assert operation["responses"]["201"]["headers"]["Idempotent-Replayed"] == {
        "$ref": "#/components/headers/Idempotent-Replayed"
    }
    assert "Idempotent-Replayed" not in schema["paths"]["/api/v1/diary/"]["get"]["responses"]["200"]["headers"]


@given(st.text(alphabet=st.characters(codec="ascii"), min_size=0, max_size=300))
def test_the_documented_key_pattern_is_what_the_server_accepts(key):
    from fithub.api.idempotency import valid_key
    from fithub.api.schema import IDEMPOTENCY_KEY_PARAMETER

    documented = IDEMPOTENCY_KEY_PARAMETER.type
    matches = bool(re.fullmatch(documented["pattern"], key)) and 1 <= len(key) <= 255
    assert matches == valid_key(key)
