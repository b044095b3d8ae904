"""drf-spectacular postprocessing hooks: make the schema say what the API answers.

Listed in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] after drf-standardized-errors' own.
"""

import re

INDEX = "INDEX"  # drf-standardized-errors' LIST_INDEX_IN_API_SCHEMA placeholder
NON_FIELD = "non_field_errors"  # the body's own errors, answered with attr null


def _attr_pattern(attr: str) -> str:
    """`items.INDEX.value` -> a pattern matching `items.0.value`, `items.12.value`, ..."""
    parts = [r"[0-9]+" if part == INDEX else re.escape(part) for part in attr.split(".")]
    return "^" + r"\.".join(parts) + "$"


def _undiscriminated(key: str) -> bool:
    return key == NON_FIELD or INDEX in key.split(".")


def list_index_attrs(result, generator, request, public):
    """Errors in list items are answered with the row's index in `attr` (`items.3.value`),
    while drf-standardized-errors documents them with a placeholder (`items.INDEX.value`)
    in an enum and in the discriminator mapping of the operation's error union. Document
    them as patterns instead. Errors about the body as a whole (`non_field_errors` in the
    schema) are answered with attr null: document that. Drop the discriminator of the
    unions that have such attrs (the attr values stay distinct, so `oneOf` still picks one)."""
    schemas = result.get("components", {}).get("schemas", {})
    for schema in schemas.values():
        attr = schema.get("properties", {}).get("attr")
        if attr and attr.get("enum") == [NON_FIELD]:
            schema["properties"]["attr"] = {"type": "string", "nullable": True, "enum": [None]}
        elif attr and any(INDEX in str(value).split(".") for value in attr.get("enum", [])):
            [value] = attr["enum"]
            schema["properties"]["attr"] = {"type": "string", "pattern": _attr_pattern(value)}
        discriminator = schema.get("discriminator") or {}
        mapping = discriminator.get("mapping", {}) if discriminator.get("propertyName") == "attr" else {}
        if any(_undiscriminated(key) for key in mapping):
            del schema["discriminator"]
    return result


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
