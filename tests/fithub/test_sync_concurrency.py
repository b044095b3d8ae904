"""The feed never misses a change, whatever order writers commit in (the real PostgreSQL).

A transaction that changes a user's row takes the user's next sequence number under the
counter's row lock and holds it to its commit (fithub.db.change_log): a second writer of
that user waits, takes the next number only after the first committed, so sequence order is
commit order and a reader's cursor never passes a change that is still to commit. Timestamps
(or a global sequence) could not promise that: a transaction that began earlier may commit
later with a smaller number than one the reader has already passed."""

import random
import threading
import time

import pytest
from django.db import close_old_connections, connection, connections, transaction

from apps.nutrition.models import DiaryEntry
from fithub.sync.feed import changes_page, decode_cursor
from tests.nutrition.factories import QuickAddEntryFactory
from tests.users.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql():
    assert connection.vendor == "postgresql", "this proof needs the real PostgreSQL (harness/with-postgres.sh)"


def _waiting_on_a_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def _eventually(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


class Writer(threading.Thread):
    """A transaction in its own connection: writes, then (told to) commits."""

    def __init__(self, write, *, hold: bool) -> None:
        super().__init__(daemon=True)
        self.write, self.hold = write, hold
        self.written, self.release, self.done = threading.Event(), threading.Event(), threading.Event()
        self.pid = None
        self.error: BaseException | None = None
        self.result = None

    def run(self) -> None:
        try:
            with transaction.atomic():  # connects: the backend's pid is known
                self.pid = connection.connection.info.backend_pid
                self.result = self.write()
                self.written.set()
                if self.hold:
                    assert self.release.wait(20)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            self.done.set()
            connections.close_all()


def _page(user, since):
    page = changes_page(user=user, since=since, limit=100)
    return page, decode_cursor(page.cursor)


def test_a_writer_that_commits_first_cannot_pass_one_that_took_a_number_before_it():
    user, other = UserFactory(), UserFactory()
    _, cursor = _page(user, None)
    first = Writer(lambda: QuickAddEntryFactory(user=user, label="first").pk, hold=True)
    first.start()
    assert first.written.wait(10)
    # The second writer of the same user waits for the first's counter lock...
    second = Writer(lambda: QuickAddEntryFactory(user=user, label="second").pk, hold=False)
    second.start()
    assert _eventually(lambda: second.pid is not None and _waiting_on_a_lock(second.pid))
    assert not second.done.is_set()
    # ...while another user's writer does not wait for anyone.
    elsewhere = Writer(lambda: QuickAddEntryFactory(user=other).pk, hold=False)
    elsewhere.start()
    assert elsewhere.done.wait(10)
    assert elsewhere.error is None
    # A reader meanwhile sees neither, and its cursor does not move past them.
    page, during = _page(user, cursor)
    assert page.changes == []
    assert during == cursor
    first.release.set()
    assert second.done.wait(10)
    assert first.error is None
    assert second.error is None
    page, after = _page(user, during)
    assert [(change["id"], change["data"]["label"]) for change in page.changes] == [
        (first.result, "first"),
        (second.result, "second"),
    ]
    assert after > during


def test_a_reader_paging_while_writers_commit_in_any_order_misses_nothing():
    """Writers change, create and delete one user's entries in transactions held open for a
    random while; a reader pages the feed (3 a page) all along. Its store ends equal to the
    database, and no object's version ever goes back in what it read."""
    user = UserFactory()
    ids = [QuickAddEntryFactory(user=user, label="seed").pk for _ in range(6)]
    connections.close_all()
    stop = threading.Event()
    store: dict[str, dict | None] = {}
    seen_versions: dict[str, int] = {}
    problems: list[str] = []

    def read() -> None:
        cursor = None
        try:
            while True:
                finishing = stop.is_set()
                page = changes_page(user=user, since=cursor, limit=3)
                for change in page.changes:
                    if change["type"] != "diary_entry":
                        continue
                    key = str(change["id"])
                    if change["version"] < seen_versions.get(key, 0):
                        problems.append(f"{key} went back to version {change['version']}")
                    seen_versions[key] = change["version"]
                    store[key] = change["data"]
                cursor = decode_cursor(page.cursor)
                if finishing and not page.has_more:
                    return
                close_old_connections()
        except BaseException as exc:
            problems.append(repr(exc))
        finally:
            connections.close_all()

    def write(seed: int) -> None:
        chance = random.Random(seed)  # noqa: S311 - a test's schedule, not a secret
        try:
            for step in range(12):
                with transaction.atomic():
                    action = chance.random()
                    if action < 0.3:
                        QuickAddEntryFactory(user=user, label=f"new {seed}.{step}")
                    elif action < 0.8:
                        target = chance.choice(ids)
                        DiaryEntry.objects.filter(pk=target).update(label=f"edit {seed}.{step}")
                    else:
                        DiaryEntry.objects.filter(pk=chance.choice(ids)).delete()
                    time.sleep(chance.uniform(0, 0.03))  # holding the number
        except BaseException as exc:
            problems.append(repr(exc))
        finally:
            connections.close_all()

    reader = threading.Thread(target=read, daemon=True)
    writers = [threading.Thread(target=write, args=(seed,), daemon=True) for seed in range(4)]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    stop.set()
    reader.join(60)
    assert not reader.is_alive()
    assert problems == []
    live = {str(pk): label for pk, label in DiaryEntry.objects.filter(user=user).values_list("pk", "label")}
    held = {key: data["label"] for key, data in store.items() if data is not None}
    assert held == live
    assert set(store) >= {str(pk) for pk in ids}


def test_lock_user_takes_the_counter_before_any_write():
    from fithub.db.change_log import lock_user

    user = UserFactory()
    with pytest.raises(RuntimeError):
        lock_user(user.pk)  # outside a transaction it would hold nothing
    first = Writer(lambda: lock_user(user.pk), hold=True)
    first.start()
    assert first.written.wait(10)
    second = Writer(lambda: QuickAddEntryFactory(user=user).pk, hold=False)
    second.start()
    assert _eventually(lambda: second.pid is not None and _waiting_on_a_lock(second.pid))
    first.release.set()
    assert second.done.wait(10)
    assert first.error is None
    assert second.error is None
