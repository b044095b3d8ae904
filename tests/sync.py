"""Reading the sync feed in tests: one page, or every page from a cursor."""

from __future__ import annotations

from django.urls import reverse

FEED = reverse("sync-changes")


def page(client, since: str | None = None, limit: int | None = None) -> dict:
    params = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def pull(client, since: str | None = None, limit: int | None = None) -> tuple[list[dict], str]:
    """Every change after `since`, page by page, and the last cursor."""
    changes: list[dict] = []
    while True:
        body = page(client, since, limit)
        changes += body["changes"]
        since = body["cursor"]
        if not body["has_more"]:
            return changes, since


def latest(changes: list[dict]) -> dict[tuple[str, str], dict]:
    """Each object's last change, by (type, id): what a client store holds after applying them."""
    return {(change["type"], change["id"]): change for change in changes}
