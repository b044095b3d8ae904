from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings


class OwnedModelSerializer(serializers.ModelSerializer):
    """Base for user-owned rows: the client may choose `id` on create, never change it."""

    id = serializers.UUIDField(
        required=False,
        help_text="Optional on create: a UUID chosen by the client (offline-first apps). "
        "Sending an id you already used returns that row and creates nothing.",
    )

    def update(self, instance, validated_data):
        validated_data.pop("id", None)
        return super().update(instance, validated_data)


# Fields whose representation of a database value is that value: no per-value call (a
# foreign key's is its raw id, as PrimaryKeyRelatedField gives it). The others' is a cast.
_AS_IS = (serializers.CharField, serializers.ChoiceField, serializers.PrimaryKeyRelatedField)
_CASTS = (
    (serializers.FloatField, float),
    (serializers.IntegerField, int),
    (serializers.BooleanField, bool),
    (serializers.UUIDField, str),
    (serializers.DateField, date.isoformat),
)


@dataclass(frozen=True, slots=True)
class _Column:
    key: str  # in the representation
    column: str  # the model field: the key of a .values() row (type__unit across a foreign key)
    attname: str  # the attribute of a model instance (food_id for the foreign key food; type.unit)
    convert: Callable[..., Any] | None  # None: the value as it is
    method: str | None = None  # a SerializerMethodField's method, called with the row
    zoned: bool = False  # convert(value, zone): a time, shown in the current time zone


class FlatReadSerializer(serializers.ModelSerializer):
    """A read-only serializer of flat rows that lists fast.

    It represents a model instance or a `.values(*columns())` row (a dict) with converters
    worked out once per class from its declared fields, instead of DRF's per-field,
    per-row machinery; OwnedModelViewSet's list selects rows as dicts for it, so a page
    builds no model instances either. The output is DRF's, value for value
    (tests/fithub/test_flat_serializers.py compares them). Fields must be model fields,
    a field of a foreign key's row (`source="type.unit"`: the `type__unit` column of a row;
    select_related for instances), foreign keys as their ids, or SerializerMethodFields.
    """

    @classmethod
    def plan(cls) -> tuple[_Column, ...]:
        cached = cls.__dict__.get("_plan")
        if cached is None:
            cached = tuple(_column(name, field, cls) for name, field in cls().fields.items())
            cls._plan = cached
        return cached

    @classmethod
    def columns(cls) -> list[str]:
        return [column.column for column in cls.plan() if column.method is None]

    @classmethod
    def _steps(cls) -> tuple[tuple, ...]:
        """The plan as plain tuples (key, column, attname, convert, kind): the per-value loop
        unpacks them instead of reading attributes."""
        cached = cls.__dict__.get("_steps_cache")
        if cached is None:
            cached = tuple(
                (c.key, c.column, attrgetter(c.attname), c.method or c.convert, _kind(c)) for c in cls.plan()
            )  # fmt: skip
            cls._steps_cache = cached
        return cached

    def to_representation(self, row) -> dict:
        is_dict = isinstance(row, dict)
        zone = self.__dict__.get("_zone")
        if zone is None:  # once per serializer (a list's rows share it): a context-local lookup
            zone = self.__dict__["_zone"] = _Zone(timezone.get_current_timezone())
        out = {}
        for key, column, attribute, convert, kind in self._steps():
            if kind is _METHOD:
                out[key] = getattr(self, convert)(row)
                continue
            value = row[column] if is_dict else attribute(row)
            if value is None or kind is _AS_IS_KIND:
                out[key] = value
            elif kind is _ZONED:
                out[key] = convert(value, zone)
            else:
                out[key] = convert(value)
        return out


_AS_IS_KIND, _CAST, _ZONED, _METHOD = "as-is", "cast", "zoned", "method"


def _kind(column: _Column) -> str:
    if column.method is not None:
        return _METHOD
    if column.convert is None:
        return _AS_IS_KIND
    return _ZONED if column.zoned else _CAST


@dataclass(frozen=True, slots=True)
class _Zone:
    """The zone times are shown in, and whether it is UTC: then a UTC time needs no conversion."""

    zone: tzinfo
    utc: bool

    def __init__(self, zone: tzinfo) -> None:
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "utc", zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC"))


def _column(name: str, field: serializers.Field, serializer: type) -> _Column:
    if isinstance(field, serializers.SerializerMethodField):
        return _Column(name, name, name, None, method=field.method_name or f"get_{name}")
    source = field.source or name
    if source.count(".") > 1 or source == "*":
        raise TypeError(f"{serializer.__name__}.{name}: FlatReadSerializer takes model fields only, not {source!r}")
    if "." in source:  # a field of the row a foreign key points to
        relation, related = source.split(".")
        foreign_key = serializer.Meta.model._meta.get_field(relation)
        if not foreign_key.many_to_one:
            raise TypeError(f"{serializer.__name__}.{name}: {relation!r} is not a foreign key")
        target = foreign_key.related_model._meta.get_field(related)
        return _column_of(name, field, f"{relation}__{related}", f"{relation}.{target.attname}")
    return _column_of(name, field, source, serializer.Meta.model._meta.get_field(source).attname)


def _column_of(name: str, field: serializers.Field, source: str, attname: str) -> _Column:
    if isinstance(field, serializers.DateTimeField):
        return _Column(name, source, attname, _datetime_converter(field), zoned=True)
    if getattr(field, "uuid_format", "hex_verbose") != "hex_verbose":
        return _Column(name, source, attname, field.to_representation)
    for kind, cast in _CASTS:
        if isinstance(field, kind):
            return _Column(name, source, attname, cast)
    if isinstance(field, _AS_IS):
        return _Column(name, source, attname, None)
    return _Column(name, source, attname, field.to_representation)


def _datetime_converter(field: serializers.DateTimeField) -> Callable[[Any, tzinfo], Any]:
    """DateTimeField's representation with its format resolved once and the zone given
    (the current one): ISO 8601, UTC written Z. Anything unusual (a field with its own zone
    or format, a naive or out-of-range time) goes through the field itself."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    plain = isinstance(output_format, str) and output_format.lower() == ISO_8601
    if not plain or hasattr(field, "timezone") or not settings.USE_TZ:
        return lambda value, zone: field.to_representation(value)

    def convert(value, zone: _Zone):
        if not isinstance(value, datetime) or value.tzinfo is None:
            return field.to_representation(value)
        if zone.utc and value.tzinfo is UTC:
            text = value.isoformat()
        else:
            try:
                text = value.astimezone(zone.zone).isoformat()
            except OverflowError:
                return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert
