"""The change feed: a user's changes after a cursor, in sequence order, each upsert with the
row as its own endpoint shows it.

A page reads the user's counter, then the log after the cursor (`(user, seq)` index, one
more row than the limit tells `has_more`), then the upserted rows of each type present in
one query per type (`registry.SyncType.rows`), rendered by the type's serializer: a fixed
number of queries whatever the page's size. On PostgreSQL it all runs in one REPEATABLE
READ, READ ONLY transaction, so a row's data is the version its log entry names.

Where it reads: wherever the router sends the user's reads (a replica that is up, fresh and
has replayed the user's last write, else the primary), the whole page on that one server.
A replica is safe: it replays the primary's commits in commit order, one user's sequence
numbers are taken in commit order (fithub.db.change_log), so any snapshot, however late,
holds every change numbered up to the highest it holds, and the cursor it gives is the
highest. A lagging replica only gives an older cursor; the next page catches up. A replica
that fails during a page (a recovery conflict cancels the snapshot, the server goes away)
makes the page run again on the primary.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router, transaction

from fithub.db.change_log import UPSERT
from fithub.db.router import reads_from
from fithub.models import Change, ChangeSequence
from fithub.sync import registry

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
_CURSOR = re.compile(r"s(0|[1-9][0-9]{0,18})")
_MAX_SEQ = 2**63 - 1


class CursorInvalid(ValueError):
    """Not a cursor this feed gives."""


class CursorExpired(Exception):
    """A cursor the feed cannot continue from: tombstones after it were pruned, or it is
    ahead of the user's sequence (a database restored from a backup). Sync from scratch."""


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    """The sequence a cursor stands for; CursorInvalid when it is not one of ours."""
    if not isinstance(text, str) or not 1 <= len(text) <= 32 or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise CursorInvalid(text)
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise CursorInvalid(text) from exc
    match = _CURSOR.fullmatch(decoded)
    if match is None or int(match.group(1)) > _MAX_SEQ or encode_cursor(int(match.group(1))) != text:
        raise CursorInvalid(text)
    return int(match.group(1))


@dataclass(frozen=True)
class FeedPage:
    changes: list[dict]
    cursor: str
    has_more: bool


def changes_page(*, user, since: int | None, limit: int = DEFAULT_LIMIT, context: dict | None = None) -> FeedPage:
    """The user's changes after sequence `since` (None: from the start, a full sync), at most
    `limit`. CursorExpired when the feed cannot continue from `since`."""
    alias = router.db_for_read(Change)
    try:
        return _page(alias, user=user, since=since, limit=limit, context=context or {})
    except OperationalError:
        if alias == DEFAULT_DB_ALIAS:
            raise
        return _page(DEFAULT_DB_ALIAS, user=user, since=since, limit=limit, context=context or {})


def _page(alias: str, *, user, since: int | None, limit: int, context: dict) -> FeedPage:
    connection = connections[alias]
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with reads_from(alias), transaction.atomic(using=alias, savepoint=False):
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # The counter before the log: without a snapshot, a change the log page misses is
        # numbered above the counter read first, which the cursor then does not pass.
        counter = ChangeSequence.objects.filter(user_id=user.pk).values_list("seq", "pruned_through").first()
        latest, pruned_through = counter or (0, 0)
        expired = since is not None and not pruned_through <= since <= latest
        entries = [] if expired else _entries(user, since or 0, limit + 1)
        shown = _render(user, entries[:limit], context)
    if expired:  # raised out of the block: an error inside would spoil a caller's transaction
        raise CursorExpired(since)
    has_more = len(entries) > limit
    entries = entries[:limit]
    changes = []
    for kind, object_id, _seq, op, version in entries:
        data = None
        if op == UPSERT:
            data = shown.get(kind, {}).get(str(object_id))
            if data is None:  # gone since the log was read (no snapshot): its delete comes after
                continue
            version = data.get("version", version)
        changes.append({"type": kind, "id": object_id, "op": op, "version": version, "data": data})
    last = entries[-1][2] if entries else 0
    cursor = last if has_more else max(last, latest, since or 0)
    return FeedPage(changes=changes, cursor=encode_cursor(cursor), has_more=has_more)


def _entries(user, since: int, count: int) -> list[tuple]:
    return list(
        Change.objects.filter(user_id=user.pk, seq__gt=since)
        .order_by("seq")
        .values_list("type", "object_id", "seq", "op", "version")[:count]
    )


def _render(user, entries: list[tuple], context: dict) -> dict[str, dict[str, dict]]:
    """The upserted rows of the page, type by type: one query (or the type's few) per type."""
    wanted: dict[str, list] = defaultdict(list)
    for kind, object_id, _seq, op, _version in entries:
        if op == UPSERT:
            wanted[kind].append(object_id)
    types = registry.types()
    shown: dict[str, dict[str, dict]] = {}
    for kind, ids in wanted.items():
        entry = types.get(kind)
        if entry is None:
            continue
        rows = entry.rows(user).filter(pk__in=ids)
        shown[kind] = {str(item["id"]): item for item in entry.serializer(rows, many=True, context=context).data}
    return shown
