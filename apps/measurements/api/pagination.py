from fithub.api.pagination import TimeCursorPagination


class MeasurementCursorPagination(TimeCursorPagination):
    """Newest measurement first; a cursor, so new readings never shift a page."""

    ordering = ("-measured_at", "-id")
