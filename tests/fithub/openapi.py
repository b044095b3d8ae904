"""Reading the OpenAPI 3.0 schema in tests: JSON Schema validation of values against its
schemas (`nullable` as JSON Schema says it) and the walk that finds which response
component each object of a real response is an instance of."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

REF = "#/components/schemas/"


def _json_schema(node):
    """OpenAPI 3.0's schema object as draft 4 JSON Schema (whose exclusiveMinimum/Maximum
    it shares): `nullable: true` admits null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key not in ("nullable", "example")}
    if node.get("nullable"):
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted and None not in converted["enum"]:
                converted["enum"] = [*converted["enum"], None]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


# jsonschema checks `uri` only with an optional package: a plain check of what a link must be.
FORMATS = FormatChecker()
_NOT_IN_URIS = frozenset(' "<>\\^`{|}')


@FORMATS.checks("uri")
def _uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and value.isascii() and not (_NOT_IN_URIS & set(value))


for _name, _check in Draft4Validator.FORMAT_CHECKER.checkers.items():
    if _name != "uri":
        FORMATS.checkers[_name] = _check


class SchemaValidator:
    def __init__(self, schema: dict) -> None:
        self.components = {"schemas": _json_schema(copy.deepcopy(schema["components"]["schemas"]))}

    def errors(self, value, schema: dict) -> list[str]:
        """What is wrong with `value` as an instance of `schema` (a schema object of the document)."""
        root = {"allOf": [_json_schema(schema)], "components": self.components}
        validator = Draft4Validator(root, format_checker=FORMATS)
        return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(value)]


def component_name(node: dict) -> str | None:
    ref = node.get("$ref", "")
    return ref[len(REF) :] if ref.startswith(REF) else None


def instances(schema: dict, node: dict, value) -> Iterator[tuple[str, dict]]:
    """(component name, object) for every object in `value` described by a component, following
    `node` (a schema object) through $ref, allOf, arrays and object properties. In a oneOf or
    anyOf, the alternatives `value` is valid against are followed."""
    schemas = schema["components"]["schemas"]
    name = component_name(node)
    if name is not None:
        target = schemas[name]
        if isinstance(value, dict) and target.get("properties"):
            yield name, value
        yield from instances(schema, target, value)
        return
    for part in node.get("allOf", []):
        yield from instances(schema, part, value)
    for key in ("oneOf", "anyOf"):
        if key in node:
            validator = SchemaValidator(schema)
            for part in node[key]:
                if not validator.errors(value, part):
                    yield from instances(schema, part, value)
    if isinstance(value, list) and "items" in node:
        for item in value:
            yield from instances(schema, node["items"], item)
    if isinstance(value, dict):
        for key, prop in node.get("properties", {}).items():
            if key in value:
                yield from instances(schema, prop, value[key])


def operations(schema: dict) -> Iterator[tuple[str, str, dict]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "patch", "post", "delete"):
                yield path, method, operation


def examples(schema: dict) -> Iterator[tuple[str, object, dict]]:
    """(where, example value, the schema it must be an instance of) for every example in the
    document: of operations' parameters, bodies, responses and headers, and of components."""
    headers = schema.get("components", {}).get("headers", {})
    for name, header in headers.items():
        if "example" in header:
            yield f"components/headers/{name}", header["example"], header["schema"]
    for name, component in schema["components"]["schemas"].items():
        if "example" in component:
            yield f"components/schemas/{name}", component["example"], component
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        for parameter in operation.get("parameters", []):
            yield from _media_examples(f"{where} parameter {parameter['name']}", parameter)
        for media, body in operation.get("requestBody", {}).get("content", {}).items():
            yield from _media_examples(f"{where} request {media}", body)
        for status, response in operation["responses"].items():
            for media, body in response.get("content", {}).items():
                yield from _media_examples(f"{where} {status} {media}", body)
            for header_name, header in response.get("headers", {}).items():
                if "example" in header and "schema" in header:
                    yield f"{where} {status} header {header_name}", header["example"], header["schema"]


def _media_examples(where: str, media: dict) -> Iterator[tuple[str, object, dict]]:
    if "example" in media:
        yield where, media["example"], media["schema"]
    for name, example in media.get("examples", {}).items():
        if "value" in example:
            yield f"{where} example {name!r}", example["value"], media["schema"]
