"""What an operation's documented 400 says about `attr` and `code`: its `x-error-codes`
(fithub.api.schema), attrs (null for an error about the body as a whole) and patterns
(`items.N.field`) with their codes."""

import functools
import re

from drf_spectacular.generators import SchemaGenerator


@functools.cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def response(path: str, method: str, status: str) -> dict:
    """The operation's response, a shared one (components/responses) resolved."""
    node = schema()["paths"][path][method]["responses"][status]
    while "$ref" in node:
        node = schema()["components"]["responses"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def documented_400(path: str, method: str) -> list[tuple[str | None, str | None, frozenset[str]]]:
    """Each documented error of the operation's 400 validation error, from its `x-error-codes`:
    (attr or None, attr pattern or None, codes). An attr of None with no pattern is the
    documented null."""
    documented = []
    for entry in response(path, method, "400").get("x-error-codes", []):
        codes = frozenset(entry["codes"])
        if "pattern" in entry:
            documented.append((None, entry["pattern"], codes))
        else:
            documented.append((entry["attr"], None, codes))
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
