"""The base viewset every user-owned resource goes through.

Scoping to the caller lives here, once: subclasses may not override `get_queryset`
(that is where a forgotten filter would leak rows); they adjust the base queryset in
`get_base_queryset` and the scoping is applied on top of it.
"""

from __future__ import annotations

import functools
import uuid

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, UUIDField
from rest_framework import status, viewsets
from rest_framework.response import Response

from fithub.api.exceptions import Conflict
from fithub.api.filters import filter_plan
from fithub.api.idempotency import idempotent
from fithub.api.pagination import TimeCursorPagination
from fithub.api.serializers import FastRepresentation, OwnedModelSerializer
from fithub.db.statements import CachedQuery, Param
from fithub.ops import metrics


class OwnedViewSetMixin:
    owner_field = "user"
    # Clients may send the `id` of a new row; re-sending it returns the row (see create).
    client_chosen_ids = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override get_base_queryset() instead "
                "so that per-user scoping cannot be bypassed."
            )

    def get_base_queryset(self) -> QuerySet:
        return self.queryset.all()

    def get_queryset(self) -> QuerySet:
        user = self.request.user
        if not user.is_authenticated:
            return self.get_base_queryset().none()
        return self.get_base_queryset().filter(**{self.owner_field: user})

    def perform_create(self, serializer):
        serializer.save(**{self.owner_field: self.request.user})

    def perform_destroy(self, instance):
        instance.delete()
        metrics.record_delete(type(instance))


class OwnedModelViewSet(OwnedViewSetMixin, viewsets.ModelViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def list(self, request, *args, **kwargs):
        """A page of the caller's rows, narrowed by the filters the request names."""
        # One statement from the cache, whatever the filters and page (see `Listing`).
        listing = Listing.of(type(self), self.get_serializer_class(), type(self.paginator))
        filter_shape, values = listing.parse_filters(request.query_params)
        values["user"] = request.user.pk
        paginator = self.paginator
        page_shape = None
        if paginator is not None:
            page_shape, page_values = paginator.plan(
                request, count=lambda: listing.unpaged(filter_shape, values).count()
            )
            values.update(page_values)
        results = listing.query.results((filter_shape, page_shape), values)
        rows = results if paginator is None else paginator.page_of(results)
        data = listing.serializer_class(rows, many=True, context=self.get_serializer_context()).data
        return Response(data) if paginator is None else paginator.get_paginated_response(data)

    @idempotent(shows=lambda view, body: (view.get_queryset(), [body["id"]]))
    def create(self, request, *args, **kwargs):
        """Create a row. The body is validated first; sending an `id` the caller already has
        then returns that row (200) when the body describes it, and answers 409 when it
        differs (nothing is written either way)."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client_id = serializer.validated_data.get("id") if self.client_chosen_ids else None
        if client_id is not None and (existing := self._existing_for_client_id(client_id, serializer)) is not None:
            return existing
        try:
            with transaction.atomic():
                self.perform_create(serializer)
        except IntegrityError:
            # A concurrent create with the same id won the race, or the id is someone else's.
            existing = self._existing_for_client_id(client_id, serializer) if client_id is not None else None
            if existing is not None:
                return existing
            raise
        data = serializer.data
        return Response(data, status=self.created_status(), headers=self.get_success_headers(data))

    def created_status(self) -> int:
        """The status of a create that wrote (201; an upsert that updated says 200)."""
        return status.HTTP_201_CREATED

    def _existing_for_client_id(self, client_id: uuid.UUID, serializer) -> Response | None:
        model = self.get_queryset().model
        row = self.get_queryset().filter(pk=client_id).first()
        if row is not None:
            differing = serializer.differences(row) if isinstance(serializer, OwnedModelSerializer) else []
            if differing:
                raise Conflict(
                    f"You already have a row with this id, and it differs from this request in: "
                    f"{', '.join(differing)}. Choose another id to create a new row."
                )
            return Response(self.get_serializer(row).data, status=status.HTTP_200_OK)
        if model._default_manager.filter(pk=client_id).exists():
            raise Conflict("This id is already in use; choose another.")
        return None


class Listing:
    """How one viewset lists: its base queryset scoped to the caller, the filters the request
    names (fithub.api.filters), the page (fithub.api.pagination), selected as `.values()`
    rows when the serializer needs no instances, and compiled once per shape of request in
    the statement cache (fithub.db.statements). The base queryset must not depend on the
    request: the caller comes in as a Param."""

    @classmethod
    @functools.cache
    def of(cls, viewset: type[OwnedModelViewSet], serializer_class: type, paginator: type | None) -> Listing:
        return cls(viewset, serializer_class, None if paginator is type(None) else paginator)

    def __init__(self, viewset: type[OwnedModelViewSet], serializer_class: type, paginator: type | None) -> None:
        self.viewset, self.serializer_class, self.paginator = viewset, serializer_class, paginator
        model = viewset.queryset.model
        self.owner_column = model._meta.get_field(viewset.owner_field).attname
        filterset_class = getattr(viewset, "filterset_class", None)
        self.filters = filter_plan(filterset_class) if filterset_class is not None else None
        columns = serializer_class.columns() if issubclass(serializer_class, FastRepresentation) else None
        if columns is not None and paginator is not None and issubclass(paginator, TimeCursorPagination):
            columns = [*columns, *(name for name in paginator.fields() if name not in columns)]
        self.columns = columns
        self.query = CachedQuery(model, self._build)

    def parse_filters(self, query_params) -> tuple[tuple, dict]:
        return self.filters.parse(query_params) if self.filters is not None else ((), {})

    def unpaged(self, filter_shape: tuple, values: dict) -> QuerySet:
        queryset = self.viewset().get_base_queryset()
        queryset = queryset.filter(**{self.owner_column: Param("user", values["user"], output_field=UUIDField())})
        if self.filters is not None:
            queryset = self.filters.apply(queryset, filter_shape, values)
        return queryset if self.columns is None else queryset.values(*self.columns)

    def _build(self, shape: tuple, values: dict) -> QuerySet:
        filter_shape, page_shape = shape
        queryset = self.unpaged(filter_shape, values)
        return queryset if self.paginator is None else self.paginator.shaped(queryset, page_shape, values)
