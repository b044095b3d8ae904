"""Pages of lists, as part of the list's cached statement (fithub.api.viewsets).

A pagination class here does its work in three steps, so that a list is one statement
compiled once per shape: `plan(request)` reads the page parameters into a shape (what
changes the SQL: page size, offset, a cursor's direction) and values (a cursor's
position); the class method `shaped(queryset, shape, values)` orders and limits the
queryset accordingly; `page_of(results)` turns the rows fetched into the page and its
links. `paginate_queryset` runs the same three steps on any queryset.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from urllib import parse

from django.core.paginator import InvalidPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Count, F, Window
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.utils.urls import replace_query_param

from fithub.db.statements import Param

# PostgreSQL's bigint: no OFFSET or row number goes past it, and a page that would start
# beyond it cannot hold a row (a larger OFFSET is a database error, not an empty page).
MAX_ROWS = 2**63 - 1
TOTAL = "pagination_total"


def _get(row, name: str):
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _invalid(param: str, message: str) -> ValidationError:
    return ValidationError({param: [ErrorDetail(message, code="invalid")]})


class _PageSize:
    """`page_size`, when given, is a whole number of at least 1 (more than the maximum is the
    maximum); anything else is a 400 naming it, not a silent default."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise _invalid(self.page_size_query_param, f"A whole number from 1 to {self.max_page_size}.")
        return min(int(raw), self.max_page_size)


class _LinksAlwaysSent:
    """`next` and `previous` are in every page (null at an end): required in the schema, as
    every key of the page is, so that generated clients need no "unset" check."""

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["required"] = list(page["properties"])
        for name in ("next", "previous"):
            # DRF's cursor example ends in a stray quote (`?cursor=cD00ODY%3D"`): not a URL.
            link = page["properties"][name]
            if "example" in link:
                link["example"] = link["example"].rstrip('"')
        return page


class PageNumberPagination(_LinksAlwaysSent, _PageSize, pagination.PageNumberPagination):
    """`?page=N&page_size=M` (at most 200) with `count`, `next`, `previous`, `results`. The
    count comes from `COUNT(*) OVER ()` beside each row of the page: one query a page, not
    a `COUNT(*)` and then the page. `page=last` needs the count first and costs one more."""

    page_size_query_param = "page_size"
    max_page_size = 200

    def plan(self, request, count=None) -> tuple[tuple, dict]:
        """`count()` gives the number of rows, for `page=last` only."""
        self.request = request
        self.size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param, 1)
        if number in self.last_page_strings:
            number = max(1, -(-count() // self.size)) if count is not None else 1
        text = str(number)
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise _invalid(self.page_query_param, "A whole number of at least 1, or `last`.")
        self.number = int(text)
        offset = (self.number - 1) * self.size
        if offset + self.size > MAX_ROWS:
            raise NotFound(self.invalid_page_message.format(page_number=number, message=""))
        return ("page", offset, self.size), {}

    @classmethod
    def shaped(cls, queryset, shape: tuple, values: dict):
        _, offset, size = shape
        return queryset.annotate(**{TOTAL: Window(Count("pk"))})[offset : offset + size]

    def page_of(self, results: list) -> list:
        if results:
            count = _get(results[0], TOTAL)
        elif self.number == 1:
            count = 0
        else:
            raise NotFound(self.invalid_page_message.format(page_number=self.number, message=""))
        paginator = DjangoPaginator(results, self.size)
        paginator.__dict__["count"] = count
        try:
            self.page = paginator.page(self.number)
        except InvalidPage:
            raise NotFound(self.invalid_page_message.format(page_number=self.number, message="")) from None
        self.page.object_list = results
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        for row in results:
            if isinstance(row, dict):
                del row[TOTAL]
        return results

    def paginate_queryset(self, queryset, request, view=None):
        shape, values = self.plan(request, count=queryset.count)
        return self.page_of(list(self.shaped(queryset, shape, values)))


class TimeCursorPagination(_LinksAlwaysSent, _PageSize, pagination.CursorPagination):
    """Cursor pages for time series, newest first: an insert never shifts a page.

    The cursor holds the position of the row a page continues from (its time and id, which
    together order every row) and the direction; a page is the rows after it in `ordering`
    (`(time, id) < (position)`, answered from the (user, time, id) index). A cursor that
    does not decode to a time PostgreSQL can compare and an id is a 400 naming `cursor`."""

    ordering = ("-created_at", "-id")

    @classmethod
    def fields(cls) -> tuple[str, str]:
        time_field, id_field = (name.lstrip("-") for name in cls.ordering)
        if not all(name.startswith("-") for name in cls.ordering):
            raise TypeError(f"{cls.__name__}.ordering: newest first, two descending fields")
        return time_field, id_field

    def plan(self, request, count=None) -> tuple[tuple, dict]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.size = self.get_page_size(request)
        self.position = self._decode(request.query_params.get(self.cursor_query_param))
        if self.position is None:
            return ("cursor", self.size, None), {}
        time, row_id, self.reverse = self.position
        return ("cursor", self.size, self.reverse), {"cursor_time": time, "cursor_id": row_id}

    @classmethod
    def shaped(cls, queryset, shape: tuple, values: dict):
        _, size, reverse = shape
        time_field, id_field = cls.fields()
        if reverse is not None:
            after = TupleGreaterThan if reverse else TupleLessThan
            position = (Param("cursor_time", values["cursor_time"]), Param("cursor_id", values["cursor_id"]))
            queryset = queryset.filter(after(Tuple(F(time_field), F(id_field)), position))
        ordering = [time_field, id_field] if reverse else [f"-{time_field}", f"-{id_field}"]
        return queryset.order_by(*ordering)[: size + 1]

    def page_of(self, results: list) -> list:
        more = len(results) > self.size
        page = results[: self.size]
        forward = self.position is None or not self.reverse
        if not forward:
            page.reverse()
        self.page = page
        first, last = (self._position_of(page[0]), self._position_of(page[-1])) if page else (None, None)
        if forward:
            self.next_position = last if more else None
            self.previous_position = None if self.position is None else (first or self.position[:2])
        else:
            self.previous_position = first if more else None
            self.next_position = last or self.position[:2]
        self.display_page_controls = self.template is not None
        return page

    def paginate_queryset(self, queryset, request, view=None):
        shape, values = self.plan(request)
        return self.page_of(list(self.shaped(queryset, shape, values)))

    def get_next_link(self):
        return None if self.next_position is None else self._link(self.next_position, reverse=False)

    def get_previous_link(self):
        return None if self.previous_position is None else self._link(self.previous_position, reverse=True)

    def _position_of(self, row) -> tuple:
        time_field, id_field = self.fields()
        return _get(row, time_field), _get(row, id_field)

    def _link(self, position: tuple, *, reverse: bool) -> str:
        time, row_id = position
        fields = {"p": time.astimezone(UTC).isoformat(), "i": str(row_id)}
        if reverse:
            fields["r"] = "1"
        encoded = base64.urlsafe_b64encode(parse.urlencode(fields).encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def _decode(self, encoded: str | None) -> tuple | None:
        if not encoded:
            return None
        try:
            text = base64.urlsafe_b64decode(encoded.encode("ascii")).decode("ascii")
            fields = parse.parse_qs(text, keep_blank_values=True, strict_parsing=True)
            time = parse_datetime(fields["p"][0])
            if time is None or time.tzinfo is None:
                raise ValueError("a time with an offset")
            # In UTC: PostgreSQL refuses offsets Python accepts (+20:00), and a time whose UTC
            # value leaves year 1-9999 cannot be compared.
            time = time.astimezone(UTC)
            if not datetime.min.replace(tzinfo=UTC) < time < datetime.max.replace(tzinfo=UTC):
                raise ValueError("out of range")
            row_id = uuid.UUID(fields["i"][0])
            reverse = fields.get("r", ["0"])[0] == "1"
        except (KeyError, IndexError, ValueError, OverflowError, UnicodeError, binascii.Error):
            raise _invalid(self.cursor_query_param, "Invalid cursor: use a next or previous link as it is.") from None
        return time, row_id, reverse

    def encode_cursor(self, cursor):  # DRF's offset cursors are not used
        raise NotImplementedError

    def get_html_context(self):
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}
