"""List filters: declared as django-filter FilterSets, run as part of a cached statement.

A viewset's `filterset_class` stays the one declaration of its filters: drf-spectacular
documents its parameters, and its form fields validate them. But a list request does not
build a FilterSet (its form and a copy of every filter, per request): `FilterPlan` reads
the filterset's filters once per class, cleans the request's parameters with their form
fields (the same values and the same 400s), and applies them to the queryset with `Param`s,
so the filtered list runs from the statement cache like any other (fithub.api.viewsets).

A filter applies `field_name__lookup_expr = value`; one that needs more (a type given by id
or by key) defines `shaped(value) -> (shape, value)` and `apply(queryset, shape, param)`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ErrorDetail, ValidationError

from fithub.db.statements import Param


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, for the schema and for the querysets of detail views; lists
    apply their filterset through `FilterPlan` instead. A request that names none of the
    filterset's parameters filters nothing, so it skips building the filterset."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(name in request.query_params for name in filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


@dataclass(frozen=True, slots=True)
class _Filter:
    name: str
    filter: django_filters.Filter
    form_field: Any
    output_field: Any  # the model field the value is adapted by, for a plain lookup


class FilterPlan:
    """One filterset class's filters, ready to clean parameters and apply them."""

    def __init__(self, filterset_class: type[django_filters.FilterSet]) -> None:
        model = filterset_class._meta.model
        form = filterset_class().form
        self.filters = []
        for name, declared in filterset_class.base_filters.items():
            if declared.method is not None and not hasattr(declared, "apply"):
                raise TypeError(f"{filterset_class.__name__}.{name}: a method filter needs shaped() and apply()")
            if declared.exclude or getattr(declared, "null_label", None) is not None:
                raise TypeError(f"{filterset_class.__name__}.{name}: exclude and null choices are not supported")
            output_field = None if hasattr(declared, "apply") else _model_field(model, declared.field_name)
            self.filters.append(_Filter(name, declared, form.fields[name], output_field))

    def parse(self, query_params) -> tuple[tuple, dict[str, Any]]:
        """The shape (which filters apply, and how) and the values of the request's filters.
        Invalid values are one 400 naming each parameter, as django-filter answers; so is a
        filter named with no value, which django-filter would ignore."""
        shape: list[Hashable] = []
        values: dict[str, Any] = {}
        errors: dict[str, list[ErrorDetail]] = {}
        for spec in self.filters:
            if spec.name not in query_params:
                continue
            try:
                value = spec.form_field.clean(spec.form_field.widget.value_from_datadict(query_params, {}, spec.name))
            except DjangoValidationError as exc:
                errors[spec.name] = [ErrorDetail(e.message % (e.params or ()), code=e.code) for e in exc.error_list]
                continue
            if value in EMPTY_VALUES:  # named with no value (`?meal=`): not silently ignored
                errors[spec.name] = [ErrorDetail("A value is required when the parameter is given.", code="required")]
                continue
            how = None
            if hasattr(spec.filter, "shaped"):
                how, value = spec.filter.shaped(value)
            shape.append((spec.name, how))
            values[f"filter_{spec.name}"] = value
        if errors:
            raise ValidationError(errors)
        return tuple(shape), values

    def apply(self, queryset: QuerySet, shape: tuple, values: dict[str, Any]) -> QuerySet:
        by_name = {spec.name: spec for spec in self.filters}
        for name, how in shape:
            spec = by_name[name]
            key = f"filter_{name}"
            if hasattr(spec.filter, "apply"):
                queryset = spec.filter.apply(queryset, how, Param(key, values[key]))
                continue
            lookup = f"{spec.filter.field_name}__{spec.filter.lookup_expr}"
            queryset = queryset.filter(**{lookup: Param(key, values[key], output_field=spec.output_field)})
        return queryset


def _model_field(model, path: str):
    """The model field at the end of a `field_name` (which may cross relations: type__key)."""
    *relations, last = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(last)


_plans: dict[type, FilterPlan] = {}


def filter_plan(filterset_class: type[django_filters.FilterSet]) -> FilterPlan:
    plan = _plans.get(filterset_class)
    if plan is None:
        plan = _plans[filterset_class] = FilterPlan(filterset_class)
    return plan
