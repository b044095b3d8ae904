from collections.abc import Callable

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Count, Window
from rest_framework import pagination

# PostgreSQL's bigint: no OFFSET or row number goes past it, and a page that would start
# beyond it cannot hold a row (a larger OFFSET is a database error, not an empty page).
MAX_ROWS = 2**63 - 1


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=N&page_size=M` (at most 200) with `count`, `next`, `previous`, `results`."""

    page_size_query_param = "page_size"
    max_page_size = 200


class WindowCountPaginator(DjangoPaginator):
    """Reads a page and the total number of rows in one query (`COUNT(*) OVER ()` beside each
    row) instead of a `COUNT(*)` and then the page.

    Meant for ranked lists such as search, where the database sorts every matching row to
    return the first ones anyway, so counting them too costs nothing more, while a separate
    `COUNT(*)` would filter them all a second time. A page past the end answers EmptyPage
    (404) like the default paginator; `page=last` needs the count first and costs a `COUNT(*)`.
    """

    total_annotation = "pagination_total"

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer") from exc
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_ROWS:
            raise EmptyPage("That page contains no results")
        rows = list(
            self.object_list.annotate(**{self.total_annotation: Window(Count("pk"))})[bottom : bottom + self.per_page]
        )
        if rows:
            self.__dict__["count"] = getattr(rows[0], self.total_annotation)
        elif number == 1 and self.allow_empty_first_page:
            self.__dict__["count"] = 0
        else:
            raise EmptyPage("That page contains no results")
        return self._get_page(rows, number, self)

    def first_page(self, rows: list, count: int):
        """Page 1 made of `rows`, read by the caller, out of `count` rows in all."""
        self.__dict__["count"] = count
        return self._get_page(rows, 1, self)


class WindowCountPagination(PageNumberPagination):
    """PageNumberPagination (same parameters and response) whose pages carry their count in the
    page query: one query per page instead of two."""

    django_paginator_class = WindowCountPaginator

    def first_page(self, fetch: Callable[[int], tuple[list, int]], request) -> list:
        """Page 1 from rows the caller reads itself: `fetch(page_size)` gives the page's rows and
        how many rows there are in all. The page, its links and response are what
        `paginate_queryset` gives for page 1 of a queryset."""
        self.request = request
        page_size = self.get_page_size(request)
        rows, count = fetch(page_size)
        paginator = self.django_paginator_class(rows, page_size)
        self.page = paginator.first_page(rows, count)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return list(self.page)


class TimeCursorPagination(pagination.CursorPagination):
    """Cursor pages for time series: an insert never shifts a page. Newest first."""

    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def is_first_page(self, request) -> bool:
        return not request.query_params.get(self.cursor_query_param)

    def first_page(self, rows: list, request, view=None) -> list:
        """The first page from rows the caller fetched itself: at most `get_page_size() + 1`
        rows in `ordering`, as dicts. The page, its links and response are what
        `paginate_queryset` gives for a request without a cursor (the extra row only tells
        whether a next page exists, and where it starts)."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, None, view)
        self.cursor = None
        self.page = rows[: self.page_size]
        self.has_previous = False
        self.has_next = len(rows) > self.page_size
        if self.has_next:
            self.next_position = self._get_position_from_instance(rows[-1], self.ordering)
            self.display_page_controls = self.template is not None
        return self.page
