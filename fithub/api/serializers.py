"""Serializers shared by the apps, and the fast read representation they all use.

`FastRepresentation` gives a serializer's representation from a plan worked out once per
class from the serializer's own declared fields: for each readable field, where its value
is (an attribute path of an instance, or a column of a `.values()` row) and how it is
shown (as it is, a cast, a time in the current zone, a nested serializer's own plan, or
the field's own `to_representation`). DRF instead deep-copies every field for every
serializer and calls two methods per value. The output is DRF's, value for value
(tests/fithub/test_fast_representation.py compares them for every API serializer); a
field the plan does not know is shown by DRF's own code for that field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

# Fields whose representation of a value is the value itself (a primary-key relation's is
# its raw id, as PrimaryKeyRelatedField gives it).
_AS_IS = (serializers.CharField, serializers.ChoiceField, serializers.ReadOnlyField)
_CASTS = (
    (serializers.FloatField, float),
    (serializers.IntegerField, int),
    (serializers.BooleanField, bool),
    (serializers.UUIDField, str),
)
_AS_IS_REPRESENTATIONS = {kind.to_representation for kind in _AS_IS}
_AS_IS_KIND, _CAST, _ZONED, _METHOD, _NESTED, _MANY, _LIVE = range(7)


@dataclass(frozen=True, slots=True)
class _Zone:
    """The zone times are shown in, and whether it is UTC: then a UTC time needs no conversion."""

    zone: tzinfo
    utc: bool

    @classmethod
    def current(cls) -> _Zone:
        zone = timezone.get_current_timezone()
        return cls(zone, zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC"))


@dataclass(frozen=True, slots=True)
class _Step:
    key: str  # in the representation
    column: str | None  # the key of a .values() row (type__unit across a foreign key); None: no column
    read: Callable[[Any], Any]  # the value from an instance
    kind: int
    convert: Any  # per kind: a callable, a method name, a nested _Plan, or the field (or its name)
    rows: bool = True  # a .values() row serves (else the row must be an instance)


class _Plan:
    """How one serializer class represents a row. A nested serializer's plan (`nested`) runs
    its method fields and unknown fields on a prototype of its own, without the request's
    context, as the top-level one runs them on the live serializer."""

    def __init__(self, serializer_class: type[serializers.Serializer], *, nested: bool = False) -> None:
        prototype = self.prototype = serializer_class()
        self.steps = tuple(
            _step(name, field, prototype, nested=nested)
            for name, field in prototype.fields.items()
            if not field.write_only
        )
        rows = all(step.rows for step in self.steps)
        self.columns = [step.column for step in self.steps if step.column is not None] if rows else None

    def render(self, row, serializer, zone: _Zone) -> dict:
        is_dict = isinstance(row, Mapping)
        out = {}
        for step in self.steps:
            kind = step.kind
            if kind == _METHOD:
                out[step.key] = getattr(serializer, step.convert)(row)
                continue
            if kind == _LIVE:  # DRF's own way, on the serializer's own field
                field = serializer.fields[step.convert] if isinstance(step.convert, str) else step.convert
                attribute = field.get_attribute(row)
                none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                out[step.key] = None if none is None else field.to_representation(attribute)
                continue
            try:
                value = row[step.column] if is_dict and step.column is not None else step.read(row)
            except SkipField:  # as DRF: a read-only field whose source is missing is left out
                continue
            if value is None or kind == _AS_IS_KIND:
                out[step.key] = value
            elif kind == _CAST:
                out[step.key] = step.convert(value)
            elif kind == _ZONED:
                out[step.key] = step.convert(value, zone)
            elif kind == _NESTED:
                out[step.key] = step.convert.render(value, step.convert.prototype, zone)
            else:  # _MANY
                items = value.all() if isinstance(value, models.Manager) else value
                child = step.convert
                out[step.key] = [child.render(item, child.prototype, zone) for item in items]
        return out


def plan_of(serializer_class: type[serializers.Serializer]) -> _Plan:
    plan = serializer_class.__dict__.get("_fast_plan")
    if plan is None:
        plan = _Plan(serializer_class)
        serializer_class._fast_plan = plan
    return plan


# Mixed into a serializer: `to_representation` follows the class's plan (see the module
# docstring). `columns()` names the `.values()` columns a row needs, or is None when a field
# needs model instances (a nested list, a field the plan does not know). No docstring: the
# schema would show it as the description of every serializer that has none of its own.
class FastRepresentation:
    @classmethod
    def columns(cls) -> list[str] | None:
        return plan_of(cls).columns

    def to_representation(self, instance) -> dict:
        zone = self.__dict__.get("_zone")
        if zone is None:  # once per serializer: a list's rows share it
            zone = self.__dict__["_zone"] = _Zone.current()
        return plan_of(type(self)).render(instance, self, zone)


_STRINGS = (
    serializers.CharField,
    serializers.UUIDField,
    serializers.DateField,
    serializers.DateTimeField,
    serializers.TimeField,
)


def _json_kind(field: serializers.Field) -> tuple[str, tuple[type, ...]] | None:
    """The JSON type the schema gives a field's input, and the Python types it parses to;
    None for the fields DRF checks itself (lists, objects, relations) or that take more than
    one kind on purpose (decimals: fithub.api.fields.RoundedDecimalField)."""
    if isinstance(field, serializers.BooleanField):
        return "boolean", (bool,)
    if isinstance(field, serializers.IntegerField):
        return "integer", (int,)
    if isinstance(field, serializers.FloatField):
        return "number", (int, float)
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        return ("string", (str,)) if all(isinstance(key, str) for key in field.choices) else None
    if isinstance(field, _STRINGS):
        return "string", (str,)
    return None


class StrictJSONTypes(serializers.Serializer):
    """A JSON body's values must have the type the schema says: DRF alone takes `false` for
    a number (0.0), `0` for a string ("0"), `"yes"` for a boolean and `""` for a null
    relation. Only for JSON bodies (a dict): query parameters are strings, parsed by the
    fields as DRF does."""

    def to_internal_value(self, data):
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(field.field_name) if not field.read_only else None
                if value == "" and isinstance(field, serializers.PrimaryKeyRelatedField):
                    # DRF reads "" as null for a relation: the schema says an id or null.
                    message = field.error_messages["incorrect_type"].format(data_type="str")
                    errors[name] = [ErrorDetail(message, code="incorrect_type")]
                    continue
                kind = _json_kind(field) if value is not None else None
                if kind is None:
                    continue
                expected, types = kind
                if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                    code = "invalid_choice" if isinstance(field, serializers.ChoiceField) else "invalid"
                    errors[name] = [ErrorDetail(f"A JSON {expected} is required.", code=code)]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class OwnedModelSerializer(StrictJSONTypes, FastRepresentation, serializers.ModelSerializer):
    """Base for user-owned rows: the client may choose `id` on create, never change it."""

    id = serializers.UUIDField(
        required=False,
        help_text="Optional on create: a UUID chosen by the client (offline-first apps). "
        "Sending an id you already have returns that row (200) and creates nothing when the body "
        "describes it, and answers 409 when it differs.",
    )

    def update(self, instance, validated_data):
        validated_data.pop("id", None)
        return super().update(instance, validated_data)

    def differences(self, instance) -> list[str]:
        """The fields of the validated input that `instance` shows otherwise, sorted: a create
        re-sent with the id of an existing row must describe that row. Fields the input
        leaves out are not compared (the create would have given them their defaults), nor
        keys of nested items the row shows but the input does not send (a portion's id)."""
        shown = self.shown_for_comparison(instance)
        sent = self.sent_for_comparison()
        return sorted(name for name, value in sent.items() if name not in shown or not _same(value, shown[name]))

    def sent_for_comparison(self) -> dict:
        """The validated input, as the fields would show it (`differences`)."""
        fields = self.fields
        return {
            name: fields[name].to_representation(value) if value is not None else None
            for name, value in self.validated_data.items()
            if name != "id"
        }

    def shown_for_comparison(self, instance) -> dict:
        """The stored row, as the API shows it (`differences`)."""
        return self.to_representation(instance)


def _same(sent, shown) -> bool:
    """Whether what was sent describes what is shown: items compared one by one, objects by
    the keys sent, ids as strings."""
    if isinstance(sent, Mapping):
        return isinstance(shown, Mapping) and all(key in shown and _same(v, shown[key]) for key, v in sent.items())
    if isinstance(sent, list | tuple):
        return isinstance(shown, list | tuple) and len(sent) == len(shown) and all(map(_same, sent, shown))
    if isinstance(sent, uuid.UUID) or isinstance(shown, uuid.UUID):
        return str(sent) == str(shown)
    return sent == shown


def _plain(serializer_class: type) -> bool:
    """Whether a nested serializer shows itself as its fields say (no to_representation of its own)."""
    own = serializer_class.to_representation
    return own in (FastRepresentation.to_representation, serializers.Serializer.to_representation)


def _step(name: str, field: serializers.Field, prototype: serializers.Serializer, *, nested: bool) -> _Step:
    live = _Step(name, None, _none, _LIVE, field if nested else name, rows=False)
    if isinstance(field, serializers.SerializerMethodField):
        if nested:
            return _Step(name, None, _none, _LIVE, field)
        # A method takes what the list reads: instances, or .values() rows if the class says so.
        rows = getattr(type(prototype), "methods_take_rows", False)
        return _Step(name, None, _none, _METHOD, field.method_name or f"get_{name}", rows=rows)
    source = field.source or name
    if source == "*":
        return live
    model = getattr(getattr(prototype, "Meta", None), "model", None)
    column, read = _where(field, source, model)
    if isinstance(field, serializers.ListSerializer):
        if not _plain(type(field.child)):
            return live
        return _Step(name, None, read, _MANY, _Plan(type(field.child), nested=True), rows=False)
    if isinstance(field, serializers.Serializer):
        if not _plain(type(field)):
            return live
        return _Step(name, None, read, _NESTED, _Plan(type(field), nested=True), rows=False)
    if isinstance(field, serializers.RelatedField):
        return _related_step(name, field, source, model) or live
    return _value_step(name, field, column, read)


def _where(field: serializers.Field, source: str, model) -> tuple[str | None, Callable]:
    """The `.values()` column of a source (None where a row needs to be an instance: a
    property, a path across more than one relation or a nullable one), and the getter of
    its value: a model field's attribute directly, anything else as the field itself reads it."""
    own = field.get_attribute
    if model is None:
        return (source if "." not in source else None), own
    if source.count(".") == 1:
        relation, related = source.split(".")
        foreign_key = _model_field(model, relation)
        if foreign_key is not None and foreign_key.many_to_one and not foreign_key.null:
            target = _model_field(foreign_key.related_model, related)
            if target is not None and target.concrete:
                return f"{relation}__{related}", own
        return None, own
    found = _model_field(model, source)
    if found is None or not found.concrete or found.many_to_many or found.is_relation:
        return None, own
    return source, attrgetter(found.attname)


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _related_step(name: str, field: serializers.RelatedField, source: str, model) -> _Step | None:
    """A relation shown by its primary key reads the foreign key's column: no related row."""
    relation = _model_field(model, source) if model is not None else None
    if relation is None or not relation.many_to_one or not field.use_pk_only_optimization():
        return None
    read = attrgetter(relation.attname)
    if type(field).to_representation is serializers.PrimaryKeyRelatedField.to_representation and not field.pk_field:
        return _Step(name, source, read, _AS_IS_KIND, None)
    return _Step(name, source, read, _CAST, lambda raw, field=field: field.to_representation(PKOnlyObject(raw)))


def _value_step(name: str, field: serializers.Field, column: str | None, read: Callable) -> _Step:
    if isinstance(field, serializers.DateTimeField):
        return _Step(name, column, read, _ZONED, _datetime_converter(field), rows=column is not None)
    if isinstance(field, serializers.DateField) and _iso(field):
        return _Step(name, column, read, _CAST, _date_converter(field), rows=column is not None)
    if isinstance(field, serializers.UUIDField) and field.uuid_format != "hex_verbose":
        return _Step(name, column, read, _CAST, field.to_representation, rows=column is not None)
    for kind, cast in _CASTS:
        if isinstance(field, kind) and type(field).to_representation is kind.to_representation:
            return _Step(name, column, read, _CAST, cast, rows=column is not None)
    if isinstance(field, _AS_IS) and type(field).to_representation in _AS_IS_REPRESENTATIONS:
        # A str as it is; anything else (a TextChoices member of a row just written) as DRF shows it.
        own = field.to_representation
        return _Step(name, column, read, _CAST, lambda v: v if type(v) is str else own(v), rows=column is not None)
    return _Step(name, column, read, _CAST, field.to_representation, rows=column is not None)


def _none(row) -> None:
    return None


def _iso(field: serializers.Field) -> bool:
    output_format = getattr(field, "format", api_settings.DATE_FORMAT)
    return isinstance(output_format, str) and output_format.lower() == ISO_8601


def _date_converter(field: serializers.DateField) -> Callable[[Any], Any]:
    def convert(value):
        return value.isoformat() if isinstance(value, date) else field.to_representation(value)

    return convert


def _datetime_converter(field: serializers.DateTimeField) -> Callable[[Any, _Zone], Any]:
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
        elif value.utcoffset() is None:  # a zone that gives no offset: naive, as DRF takes it
            return field.to_representation(value)
        else:
            try:
                text = value.astimezone(zone.zone).isoformat()
            except OverflowError:
                return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert
