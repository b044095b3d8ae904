"""The base viewset every user-owned resource goes through.

Scoping to the caller lives here, once: subclasses may not override `get_queryset`
(that is where a forgotten filter would leak rows); they adjust the base queryset in
`get_base_queryset` and the scoping is applied on top of it.
"""

from __future__ import annotations

import functools
import uuid

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from rest_framework import status, viewsets
from rest_framework.response import Response

from fithub.api.exceptions import Conflict
from fithub.api.idempotency import idempotent
from fithub.api.pagination import TimeCursorPagination
from fithub.api.serializers import FlatReadSerializer
from fithub.db.statements import CompiledQuery
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

    # A viewset whose list is a FlatReadSerializer over TimeCursorPagination, and whose
    # get_base_queryset() is the same for every request, may set this: the first page of an
    # unfiltered list (the most common read: "my latest entries") then runs a statement
    # compiled once (fithub.db.statements) instead of building and compiling the query each time.
    compiled_first_page = False
    # A FlatReadSerializer giving the list what get_serializer_class()'s serializer would,
    # when that one is also the write serializer (the schema keeps documenting it).
    flat_list_serializer_class: type[FlatReadSerializer] | None = None

    def list(self, request, *args, **kwargs):
        """A page of the caller's rows. A FlatReadSerializer gets them as dicts (`.values()`)."""
        serializer_class = self.flat_list_serializer_class or self.get_serializer_class()
        if issubclass(serializer_class, FlatReadSerializer) and self._compiled_first_page_applies():
            return self._compiled_first_page(serializer_class)
        queryset = self.filter_queryset(self.get_queryset())
        if issubclass(serializer_class, FlatReadSerializer):
            queryset = queryset.values(*serializer_class.columns())
        page = self.paginate_queryset(queryset)
        rows = queryset if page is None else page
        serializer = serializer_class(rows, many=True, context=self.get_serializer_context())
        return Response(serializer.data) if page is None else self.get_paginated_response(serializer.data)

    def _compiled_first_page_applies(self) -> bool:
        return (
            self.compiled_first_page
            and self.request.user.is_authenticated
            and isinstance(self.paginator, TimeCursorPagination)
            and self.paginator.is_first_page(self.request)
            and not any(self._filters_requested(backend()) for backend in self.filter_backends)
        )

    def _filters_requested(self, backend) -> bool:
        # A backend that cannot tell whether it would filter is assumed to.
        requested = getattr(backend, "filters_requested", None)
        return requested is None or requested(self.request, self)

    def _compiled_first_page(self, serializer_class) -> Response:
        paginator = self.paginator
        columns = serializer_class.columns()
        limit = paginator.get_page_size(self.request) + 1
        ordering = paginator.get_ordering(self.request, None, self)
        compiled = _first_page_query(type(self), tuple(columns), ordering, limit)
        rows = [dict(zip(columns, row, strict=True)) for row in compiled.rows(user_id=self.request.user.pk)]
        page = paginator.first_page(rows, self.request, self)
        serializer = serializer_class(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @idempotent
    def create(self, request, *args, **kwargs):
        """Create a row. Sending an `id` the caller already has returns that row (200)."""
        client_id = _client_id(request.data)
        if client_id is not None:
            existing = self._existing_for_client_id(client_id)
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                return super().create(request, *args, **kwargs)
        except IntegrityError:
            # A concurrent create with the same id won the race, or the id is someone else's.
            if client_id is not None and (existing := self._existing_for_client_id(client_id)) is not None:
                return existing
            raise

    def _existing_for_client_id(self, client_id: uuid.UUID) -> Response | None:
        model = self.get_queryset().model
        row = self.get_queryset().filter(pk=client_id).first()
        if row is not None:
            return Response(self.get_serializer(row).data, status=status.HTTP_200_OK)
        if model._default_manager.filter(pk=client_id).exists():
            raise Conflict("This id is already in use; choose another.")
        return None


@functools.cache
def _first_page_query(viewset: type[OwnedModelViewSet], columns: tuple, ordering: tuple, limit: int) -> CompiledQuery:
    """One compiled first-page statement per viewset, columns, ordering and page size (at most
    max_page_size + 1 of them per viewset)."""
    owner_field = viewset.owner_field
    model = viewset.queryset.model

    def build(user_id):
        base = viewset().get_base_queryset()
        return base.filter(**{owner_field: user_id}).values_list(*columns).order_by(*ordering)[:limit]

    return CompiledQuery(model, build, fields={"user_id": owner_field}, sentinels=_USER_SENTINELS)


_USER_SENTINELS = ({"user_id": uuid.UUID(int=1)}, {"user_id": uuid.UUID(int=2)})


def _client_id(data) -> uuid.UUID | None:
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        return None
    try:
        return uuid.UUID(str(data["id"]))
    except ValueError:
        return None  # the serializer reports the invalid id
