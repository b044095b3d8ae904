"""Idempotency-Key for POSTs that create: a retry replays the first response.

A mobile client on a bad network cannot tell a lost request from a lost response. It
sends `Idempotency-Key: <uuid>` with a POST; if it retries with the same key, it gets the
first response again (with `Idempotent-Replayed: true`) and nothing is created twice.
The same key with a different request answers 422. Keys are per user and expire after
IDEMPOTENCY_KEY_TTL_HOURS. A replay never shows a row that has since been deleted: when a
row the first response showed is gone, the retry answers 410 instead.

The record is written in the same transaction as the work: two concurrent requests with
one key serialize on its unique index, and a request that fails leaves no record, so the
client can retry it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fithub.api.exceptions import Gone
from fithub.models import IdempotencyRecord

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters (as the schema documents: fithub.api.schema)."""
    return 1 <= len(key) <= 255 and key.isascii() and key.isprintable()


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(user, key: str, fingerprint: str):
    """(record, created): the user's record of `key`, inserted now if there was none.

    One statement for a new key, `INSERT ... ON CONFLICT DO NOTHING RETURNING`, where
    get_or_create costs four (a SELECT, then the INSERT inside a savepoint in case a
    concurrent request inserts first). A concurrent insert of the same key makes this one
    wait for its transaction: once it commits, nothing is inserted and its row is read;
    if it rolls back, the insert goes ahead. PostgreSQL and SQLite (3.35+) both take it."""
    meta = IdempotencyRecord._meta
    connection = connections[router.db_for_write(IdempotencyRecord)]
    quote = connection.ops.quote_name
    names = ("user", "key", "fingerprint", "created_at")
    columns = [meta.get_field(name).column for name in names]
    now = timezone.now()
    # Identifiers from the model, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608 # nosec B608
        f"VALUES (%s, %s, %s, %s) ON CONFLICT ({quote(columns[0])}, {quote(columns[1])}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )
    values = [user.pk, key, fingerprint, now]
    params = [
        meta.get_field(name).get_db_prep_value(value, connection) for name, value in zip(names, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is not None:
        record = IdempotencyRecord(pk=inserted[0], user=user, key=key, fingerprint=fingerprint, created_at=now)
        record._state.adding, record._state.db = False, connection.alias
        return record, True
    return IdempotencyRecord.objects.get(user=user, key=key), False


# shows(view, body) -> (the queryset the rows are in, the ids of the rows the response shows)
Shows = Callable[[Any, Any], tuple[QuerySet, list]]


def idempotent(handler=None, *, shows: Shows | None = None):
    """Decorate a viewset handler (create, or a POST action) to honour Idempotency-Key.

    `shows` names the rows a stored response shows; a replay answers 410 when any of them
    has been deleted since, rather than a snapshot of a row that is gone."""
    if handler is None:
        return lambda handler: idempotent(handler, shows=shows)

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        if not valid_key(key):
            raise ValidationError({HEADER: ["Use 1 to 255 printable ASCII characters, such as a UUID."]})

        fingerprint = _fingerprint(request)
        expired_before = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        with transaction.atomic():
            record, created = _claim(request.user, key, fingerprint)
            if not created and record.created_at < expired_before:
                # An expired key starts afresh. Claimed again after the delete: a concurrent
                # request may have renewed it first (its row is then the one that counts).
                IdempotencyRecord.objects.filter(pk=record.pk).delete()
                record, created = _claim(request.user, key, fingerprint)
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                if shows is not None and _gone(*shows(view, record.response_body)):
                    raise Gone("What this request created has since been deleted; nothing was replayed.")
                replay = Response(record.response_body, status=record.response_status)
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = handler(view, request, *args, **kwargs)
            if status.is_success(response.status_code):
                # Stored as the client saw it (floats, ISO dates), so a replay is identical.
                record.response_status = response.status_code
                record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                record.save(update_fields=["response_status", "response_body"])
            else:
                record.delete()
            return response

    wrapper.idempotent = True
    return wrapper


def _gone(rows: QuerySet, ids: list) -> bool:
    """Whether any of these rows no longer exists (one query)."""
    wanted = set(ids)
    return bool(wanted) and rows.filter(pk__in=wanted).count() != len(wanted)
