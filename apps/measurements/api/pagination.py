from datetime import UTC

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound

from fithub.api.pagination import TimeCursorPagination


class MeasurementCursorPagination(TimeCursorPagination):
    """Newest measurement first; a cursor, so new readings never shift a page."""

    ordering = ("-measured_at", "-id")

    def decode_cursor(self, request):
        # The position is a measured_at from a `next`/`previous` link; a forged one that is
        # not a time (or not one the database can store) is an invalid cursor, not a 500.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = parse_datetime(cursor.position)
                if position is None or position.tzinfo is None:
                    raise ValueError
                position.astimezone(UTC)
            except (ValueError, OverflowError) as exc:
                raise NotFound(self.invalid_cursor_message) from exc
        return cursor
