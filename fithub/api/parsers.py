"""The JSON body parser: bounded before anything recurses into the body.

DRF's JSONParser hands the body to the standard library, which recurses once per level of
nesting: a body nested a thousand deep raised RecursionError (a 500) before any serializer
saw it. orjson parses iteratively (it refuses depth past its own limit as invalid JSON)
and refuses what no field of ours can hold (NaN and Infinity literals, lone surrogates,
integers past 64 bits); then the parsed value's depth is checked without recursion. The
body's size is bounded before parsing by DATA_UPLOAD_MAX_MEMORY_SIZE (a 413).
"""

from __future__ import annotations

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser

# No request body of ours nests deeper than a list of objects in an object (a bulk of
# measurements, a meal's items): this leaves room and stops everything else.
MAX_DEPTH = 16


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if depth_of(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data


def depth_of(value) -> int:
    """How deep lists and objects nest in a parsed JSON value (a scalar is depth 0)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
