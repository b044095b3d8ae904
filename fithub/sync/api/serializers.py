"""The change feed's query and page. The page is rendered by the feed itself
(fithub.sync.feed): these serializers validate the query and document the page, one change
component per registered type (`FoodChange`, `ProfileChange`...) discriminated by `type`,
so a generated client knows each change's `data`."""

from __future__ import annotations

import functools

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from fithub.models import Change
from fithub.sync import feed, registry


class ChangesQuerySerializer(serializers.Serializer):
    since = serializers.CharField(
        required=False,
        max_length=32,
        help_text="The `cursor` of the previous page or sync; none for everything (a full sync).",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=feed.MAX_LIMIT,
        default=feed.DEFAULT_LIMIT,
        help_text=f"At most this many changes (1 to {feed.MAX_LIMIT}; {feed.DEFAULT_LIMIT} by default).",
    )

    def to_internal_value(self, data):
        # DRF reads `?since=` as no since at all: a parameter named with no value is refused
        # instead, as the lists' filters refuse it.
        empty = {name: [ErrorDetail("A value is required when the parameter is given.", code="required")]
                 for name in self.fields if data.get(name, None) == ""}  # fmt: skip
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)

    def validate_since(self, value: str) -> int:
        try:
            return feed.decode_cursor(value)
        except feed.CursorInvalid:
            raise serializers.ValidationError("Not a cursor this feed gave.", code="invalid") from None


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


@functools.cache
def change_serializer(name: str) -> type[serializers.Serializer]:
    """The change of one type: its `type` a constant, its `data` the type's representation."""
    entry = registry.types()[name]
    # A constant: an inline enum of one value (a ChoiceField would make an enum component per type).
    type_field = extend_schema_field({"type": "string", "enum": [name], "description": f"`{name}`."})(
        type(f"{_camel(name)}TypeField", (serializers.CharField,), {"__module__": __name__})
    )
    return type(
        f"{_camel(name)}ChangeSerializer",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": f"A change of a `{name}`: the row as its own endpoint shows it, or null when it was deleted."
            + (f" {entry.description}" if entry.description else ""),
            "type": type_field(),
            "id": serializers.UUIDField(),
            "op": serializers.ChoiceField(choices=Change.Op.choices, help_text="`upsert` or `delete` (a tombstone)."),
            "version": serializers.IntegerField(help_text="The row's version after this change."),
            "data": entry.serializer(allow_null=True, read_only=True, help_text="Null for a delete."),
        },
    )


def any_change() -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="SyncChange",
        serializers={name: change_serializer(name) for name in registry.types()},
        resource_type_field_name="type",
        many=True,
    )


class ChangesPageSerializer(serializers.Serializer):
    """Changes in the order they were made, each object once (its latest change)."""

    changes = serializers.ListField(child=serializers.DictField())
    cursor = serializers.CharField(help_text="Send it as `since` for the next page or the next sync.")
    has_more = serializers.BooleanField(help_text="More changes follow: ask again with `cursor` now.")

    def get_fields(self):
        fields = super().get_fields()
        fields["changes"] = extend_schema_field(any_change())(serializers.ListField(child=serializers.DictField()))
        return fields
