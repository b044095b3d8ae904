"""drf-spectacular postprocessing hooks: make the schema say what the API answers.

Listed in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] after drf-standardized-errors' own.
"""

import json
import re
from collections import Counter

from fithub.api.schema import error_response_name


def create_replays_are_200(result, generator, request, public):
    """Creates that take a client-chosen `id` (fithub.api.viewsets.OwnedModelViewSet)
    answer 200 with the existing row when that id is re-sent: document the 200 next to
    the 201."""
    for path, _regex, method, view in generator._get_paths_and_endpoints():
        if method != "POST" or getattr(view, "action", None) != "create":
            continue
        if not getattr(view, "client_chosen_ids", False):
            continue
        operation = result.get("paths", {}).get(path, {}).get("post")
        if not operation:
            continue
        responses = operation.get("responses", {})
        if "201" in responses and "200" not in responses:
            replay = {key: value for key, value in responses["201"].items() if key != "examples"}
            content = {
                media: {key: value for key, value in body.items() if key != "examples"}
                for media, body in replay.get("content", {}).items()
            }
            replay["content"] = content
            replay["description"] = (
                "A row with this `id` was already yours and the body describes it: it is returned unchanged "
                "(a body that differs from it answers 409)."
            )
            responses["200"] = replay
    return result


RESPONSE_HEADERS = {
    "RateLimit-Policy": {
        "description": (
            "The tightest rate limit this request counted against (draft-ietf-httpapi-ratelimit-headers-09): "
            "a structured-field list item, the policy's name with its quota `q` (requests) per window `w` "
            '(seconds), e.g. `"user";q=1200;w=60`. Policies: anon, user, ip, login_ip, login_account, register. '
            "Absent when no throttle counted the request (a 401 before throttling, nginx's own errors)."
        ),
        "schema": {"type": "string", "pattern": r'^"[a-z_]+";q=[0-9]+;w=[0-9]+$'},
        "example": '"user";q=1200;w=60',
    },
    "RateLimit": {
        "description": (
            "What is left of the policy named in RateLimit-Policy: `r` requests remain in the current window, "
            'which resets in `t` seconds, e.g. `"user";r=1187;t=42`. `r=0` on a 429.'
        ),
        "schema": {"type": "string", "pattern": r'^"[a-z_]+";r=[0-9]+;t=[0-9]+$'},
        "example": '"user";r=1187;t=42',
    },
    "X-Request-ID": {
        "description": "The request's id, as in the server's logs: quote it when reporting a problem.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an earlier request with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _header(name: str, *, required: bool = False) -> dict:
    ref = {"$ref": f"#/components/headers/{name}"}
    # A $ref cannot carry `required` beside it (OpenAPI 3.0): a required header is inlined.
    return {**RESPONSE_HEADERS[name], "required": True} if required else ref


def response_headers(result, generator, request, public):
    """Document the headers the API sets on responses: RateLimit-Policy and RateLimit (every
    throttled operation, fithub.api.middleware.RateLimitHeadersMiddleware), X-Request-ID
    (every response), Retry-After (required on 429 and 503) and Idempotent-Replayed (the
    success responses of operations that take an Idempotency-Key)."""
    result.setdefault("components", {}).setdefault("headers", {}).update(RESPONSE_HEADERS)
    views = {(path, method.lower()): view for path, _regex, method, view in generator._get_paths_and_endpoints()}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            view = views.get((path, method))
            throttled = view is None or bool(view.get_throttles())
            keyed = any(
                parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key"
                for parameter in operation.get("parameters", [])
            )
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", _header("X-Request-ID"))
                if throttled:
                    headers.setdefault("RateLimit-Policy", _header("RateLimit-Policy"))
                    headers.setdefault("RateLimit", _header("RateLimit"))
                if status in ("429", "503"):
                    headers["Retry-After"] = _header("Retry-After", required=True)
                if keyed and status.startswith("2"):
                    headers.setdefault("Idempotent-Replayed", _header("Idempotent-Replayed"))
    return result


_PATH_PARAMETER = re.compile(r"^\{([^{}/]+)\}$")
_METHODS = ("get", "put", "patch", "delete", "post")


def _resolved(result: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = result["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _created_has_id(result: dict, response: dict) -> bool:
    schema = _resolved(result, response.get("content", {}).get("application/json", {}).get("schema", {}))
    return "id" in schema.get("properties", {})


def _detail_operations(paths: dict, collection: str) -> list[tuple[str, str, dict]]:
    """The operations on `collection` + `{param}/...` (retrieve, update, destroy, detail
    actions) whose only path parameter is that one: (parameter name, method, operation)."""
    found = []
    for path, item in paths.items():
        if path == collection or not path.startswith(collection):
            continue
        segments = path[len(collection) :].strip("/").split("/")
        match = _PATH_PARAMETER.match(segments[0])
        if not match or any(_PATH_PARAMETER.match(segment) for segment in segments[1:]):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if operation and operation.get("operationId"):
                found.append((match.group(1), method, operation))
    return found


def create_links(result, generator, request, public):
    """OpenAPI links from each create's 201 (a body with an `id`) to the operations on that
    row (`{id}` right after the collection's path), so that clients and schemathesis's
    stateful phase know the id flows: `{"operationId": ..., "parameters": {"id": "$response.body#/id"}}`."""
    paths = result.get("paths", {})
    for collection, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created or not _created_has_id(result, created):
            continue
        links = {
            operation["operationId"]: {
                "operationId": operation["operationId"],
                "parameters": {parameter: "$response.body#/id"},
                "description": f"The created row: its `id` as `{parameter}`.",
            }
            for parameter, _method, operation in _detail_operations(paths, collection)
        }
        if links:
            created.setdefault("links", {}).update(links)
    return result


def _is_shared_error(status: str, response: dict) -> bool:
    """An error response whose body is the status's shared component (ErrorResponse404...)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return status != "400" and schema.get("$ref") == f"#/components/schemas/ErrorResponse{status}"


def shared_error_responses(result, generator, request, public):
    """Move the error responses (401 and up) that operations share into components/responses,
    one per status (`NotFound`, `TooManyRequests`, ...: headers, examples and description
    included), and refer to it from each operation. A response that differs from its
    status's most common one (another description, other headers) stays inline. Runs after
    response_headers, so the shared ones carry the documented headers. The 400s stay inline:
    each documents its own attrs and codes."""
    operations = [
        operation
        for item in result.get("paths", {}).values()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]
    variants: dict[str, Counter] = {}
    for operation in operations:
        for status, response in operation.get("responses", {}).items():
            if "$ref" not in response and _is_shared_error(status, response):
                variants.setdefault(status, Counter())[json.dumps(response, sort_keys=True)] += 1
    shared = {status: counter.most_common(1)[0][0] for status, counter in variants.items()}
    responses = result.setdefault("components", {}).setdefault("responses", {})
    for status in sorted(shared):
        responses[error_response_name(status)] = json.loads(shared[status])
    for operation in operations:
        for status, response in operation.get("responses", {}).items():
            if status in shared and "$ref" not in response and json.dumps(response, sort_keys=True) == shared[status]:
                operation["responses"][status] = {"$ref": f"#/components/responses/{error_response_name(status)}"}
    return result


def anonymous_security(result, generator, request, public):
    """Say which operations need no token in a form generated clients read as such.

    drf-spectacular lists `{}` (no authentication) as one of the alternatives: `[{}]` on an
    operation that authenticates nobody (register, log in, refresh) and `[{"jwtAuth": []}, {}]`
    on one open to anyone that a token changes (the food search shows your own foods too).
    openapi-python-client types any non-empty `security` as needing an `AuthenticatedClient`.
    So: `security: []` where no token is read, and the optional-token operations take the
    top-level `security` (the same alternatives, which the document's rules apply to an
    operation without its own): both clients may call them, and Swagger UI still sends the
    token it was given."""
    optional = []
    for item in result.get("paths", {}).values():
        for method in _METHODS:
            operation = item.get(method)
            security = (operation or {}).get("security")
            if not security or {} not in security:
                continue
            if security == [{}]:
                operation["security"] = []
            else:
                optional.append(operation)
    alternatives = {tuple(sorted(str(alt) for alt in operation["security"])) for operation in optional}
    if len(alternatives) == 1 and "security" not in result:
        result["security"] = [*[alt for alt in optional[0]["security"] if alt], {}]
        for operation in optional:
            del operation["security"]
    return result


NULL = {"type": "object", "nullable": True, "enum": [None]}  # null, in OpenAPI 3.0's words


def nullable_refs_as_one_of(result, generator, request, public):
    """A nullable reference to a component is written by drf-spectacular as
    `{"allOf": [{"$ref": ...}], "nullable": true}`: `nullable` with no `type` beside it, which
    OpenAPI 3.0.3 ignores (linters flag it), and `"type": "object"` added would not help:
    openapi-python-client then drops the null. Write it as "the component or null" instead,
    `{"oneOf": [{"$ref": ...}, {"type": "object", "nullable": true, "enum": [null]}]}`, which
    generated clients type `X | None` (Python) and `X | null` (TypeScript)."""

    def visit(node) -> None:
        if isinstance(node, dict):
            parts = node.get("allOf")
            if node.get("nullable") is True and "type" not in node and isinstance(parts, list) and len(parts) == 1:
                del node["allOf"], node["nullable"]
                node["oneOf"] = [parts[0], dict(NULL)]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result.get("components", {}).get("schemas", {}))
    visit(result.get("paths", {}))
    return result
