"""What an operation's documented 400 says about `attr` and `code`: the schema's attr enums
(null for an error about the body as a whole) and patterns (`items.N.field`)."""

import functools
import re

from drf_spectacular.generators import SchemaGenerator


@functools.cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def resolve(node: dict) -> dict:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def enum(node: dict) -> list:
    node = resolve(node)
    values = list(node.get("enum", []))
    for part in [*node.get("allOf", []), *node.get("oneOf", []), *node.get("anyOf", [])]:
        values += enum(part)
    return values


def documented_400(path: str, method: str) -> list[tuple[str | None, str | None, frozenset[str]]]:
    """Each documented error of the operation's 400 validation error: (attr or None, attr
    pattern or None, codes). An attr of None with no pattern is the documented null."""
    response = schema()["paths"][path][method]["responses"]["400"]
    body = resolve(response["content"]["application/json"]["schema"])
    documented = []
    for variant in body["oneOf"]:
        if "validation_error" not in enum(resolve(variant)["properties"]["type"]):
            continue  # the parse error (malformed JSON), attr null too
        errors = resolve(resolve(variant)["properties"]["errors"]["items"])
        for component in errors.get("oneOf", [errors]):
            properties = resolve(component)["properties"]
            codes = frozenset(enum(properties["code"]))
            attr = resolve(properties["attr"])
            if "pattern" in attr:
                documented.append((None, attr["pattern"], codes))
            else:
                documented.extend((value, None, codes) for value in enum(attr) or [None])
    return documented


def is_documented(attr: str | None, code: str, path: str, method: str) -> bool:
    """Whether exactly one documented error has this attr, and it lists this code."""
    matches = [
        codes
        for value, pattern, codes in documented_400(path, method)
        if (pattern is not None and attr is not None and re.search(pattern, attr))
        or (pattern is None and value == attr)
    ]
    return len(matches) == 1 and code in matches[0]


def documented_attrs(path: str, method: str) -> set[str]:
    """The documented attrs, patterns written back with N for the index (`items.N.food`)."""
    attrs = set()
    for value, pattern, _codes in documented_400(path, method):
        if pattern is not None:
            attrs.add(pattern.strip("^$").replace(r"\.", ".").replace("[0-9]+", "N"))
        elif value is not None:
            attrs.add(value)
    return attrs
