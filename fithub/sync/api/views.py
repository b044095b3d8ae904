from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework.response import Response
from rest_framework.views import APIView

from fithub.api.exceptions import SyncCursorExpired
from fithub.api.schema import error_response_serializer
from fithub.sync import feed
from fithub.sync.api.examples import changes_examples
from fithub.sync.api.serializers import ChangesPageSerializer, ChangesQuerySerializer


# What a bad `since` or `limit` answers (400, attr the parameter's name).
@extend_validation_errors(
    ["required", "invalid", "max_length", "null_characters_not_allowed", "surrogate_characters_not_allowed"],
    field_name="since",
    methods=["get"],
)
@extend_validation_errors(
    ["required", "invalid", "max_string_length", "max_value", "min_value"], field_name="limit", methods=["get"]
)
class ChangesView(APIView):
    """Every change of your rows after a cursor, in the order they were made: each row
    created or changed (`upsert`, with the row as its own endpoint shows it) or deleted
    (`delete`, a tombstone, `data` null), each object once with its latest change.

    Sync: without `since`, the feed gives everything you have (a full sync), page after page
    while `has_more`; keep the last `cursor` and send it as `since` next time to get only
    what changed since. A change made while you page, or committed after you got a cursor,
    always comes after that cursor. Tombstones are kept at least 90 days: an older cursor
    answers 410 (`sync_cursor_expired`), and the client syncs again from scratch.

    A row whose representation depends on others comes again when they change: a meal when
    a food of it changes, a custom food when its preference does, the profile when a weight
    does (its bmi). `age` follows the calendar, not a change."""

    @extend_schema(
        tags=["sync"],
        summary="Changes since a cursor: the change feed",
        parameters=[ChangesQuerySerializer],
        responses={
            200: ChangesPageSerializer,
            410: error_response_serializer("410"),
        },
        examples=changes_examples(),
    )
    def get(self, request):
        params = ChangesQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            page = feed.changes_page(
                user=request.user,
                since=params.validated_data.get("since"),
                limit=params.validated_data["limit"],
                context={"request": request},
            )
        except feed.CursorExpired:
            raise SyncCursorExpired() from None
        return Response({"changes": page.changes, "cursor": page.cursor, "has_more": page.has_more})
