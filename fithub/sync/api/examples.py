"""The feed's examples, made of each type's example representation (fithub.sync.registry):
a full sync's first page and the next sync's page with a tombstone."""

from drf_spectacular.utils import OpenApiExample

from fithub.sync import feed, registry


def _change(name: str, op: str = "upsert") -> dict:
    example = registry.types()[name].example
    return {
        "type": name,
        "id": example["id"],
        "op": op,
        "version": example["version"] + (1 if op == "delete" else 0),
        "data": example if op == "upsert" else None,
    }


def changes_examples() -> list[OpenApiExample]:
    names = list(registry.types())
    first = [_change(name) for name in names[:3]]
    later = [_change(names[-1]), _change(names[1], op="delete")] if len(names) > 1 else []
    return [
        OpenApiExample(
            "A full sync's first page",
            value={"changes": first, "cursor": feed.encode_cursor(3), "has_more": True},
            response_only=True,
        ),
        OpenApiExample(
            "The next sync: a change and a deletion",
            value={"changes": later, "cursor": feed.encode_cursor(57), "has_more": False},
            response_only=True,
        ),
    ]
