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
