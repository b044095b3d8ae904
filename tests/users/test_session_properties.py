"""Any interleaving of logins, refreshes, retries, reuses, logouts, password changes and
session endings over a few devices leaves exactly the sessions it should alive.

A hypothesis state machine drives the API through the test client and keeps a model: which
device holds which tokens, and which of them still work. After every step each device's
access and refresh tokens are tried, and the sessions list is compared with the model.
"""

import jwt
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.users.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

DEVICES = 3
devices = st.integers(min_value=0, max_value=DEVICES - 1)


def _sid(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sid"]


class Device:
    """What one device holds: its pair, and the refresh tokens it had before (newest last)."""

    def __init__(self, pair: dict) -> None:
        self.access, self.refresh = pair["access"], pair["refresh"]
        self.rotated_away: list[str] = []

    @property
    def session(self) -> str:
        return _sid(self.access)


class Sessions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        cache.clear()
        self.client = Client()
        self.user = UserFactory()
        self.password = PASSWORD
        self.devices: dict[int, Device] = {}  # the devices that hold a pair
        self.alive: set[str] = set()  # the sessions that must work
        self.forgotten: dict[str, dict] = {}  # live sessions no device holds (it logged in again)
        self.retired: list[dict] = []  # pairs of ended sessions: refused

    def _post(self, name: str, data=None, access: str | None = None, **kwargs):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"} if access else {}
        return self.client.post(reverse(name, **kwargs), data or {}, content_type="application/json", **headers)

    def _ended(self, session: str) -> None:
        self.alive.discard(session)
        for number, held in list(self.devices.items()):
            if held.session == session:
                del self.devices[number]
                self.retired.append({"access": held.access, "refresh": held.refresh})
        if session in self.forgotten:
            self.retired.append(self.forgotten.pop(session))

    @initialize(device=devices)
    def first_login(self, device):
        self.log_in(device)

    @rule(device=devices)
    def log_in(self, device):
        response = self._post("auth-token", {"email": self.user.email, "password": self.password})
        assert response.status_code == 200
        if device in self.devices:  # its old session stays alive: the device just forgets it
            old = self.devices.pop(device)
            self.forgotten[old.session] = {"access": old.access, "refresh": old.refresh}
        self.devices[device] = Device(response.json())
        self.alive.add(self.devices[device].session)

    @precondition(lambda self: self.devices)
    @rule(data=st.data())
    def refresh(self, data):
        device = data.draw(st.sampled_from(sorted(self.devices)))
        held = self.devices[device]
        response = self._post("auth-token-refresh", {"refresh": held.refresh})
        assert response.status_code == 200, response.content
        pair = response.json()
        assert _sid(pair["access"]) == held.session
        held.rotated_away.append(held.refresh)
        held.access, held.refresh = pair["access"], pair["refresh"]

    @precondition(lambda self: any(held.rotated_away for held in self.devices.values()))
    @rule(data=st.data())
    def retry_the_last_refresh(self, data):
        """A retry within the grace window: the same pair again, nothing ends."""
        device = data.draw(st.sampled_from(sorted(n for n, held in self.devices.items() if held.rotated_away)))
        held = self.devices[device]
        response = self._post("auth-token-refresh", {"refresh": held.rotated_away[-1]})
        assert response.status_code == 200
        assert response.json() == {"access": held.access, "refresh": held.refresh}

    @precondition(lambda self: any(len(held.rotated_away) >= 2 for held in self.devices.values()))
    @rule(data=st.data())
    def reuse_an_old_refresh_token(self, data):
        """Two rotations old: a reuse, whatever the grace window. The whole family ends."""
        device = data.draw(
            st.sampled_from(sorted(n for n, held in self.devices.items() if len(held.rotated_away) >= 2))
        )
        held = self.devices[device]
        old = data.draw(st.sampled_from(held.rotated_away[:-1]))
        assert self._post("auth-token-refresh", {"refresh": old}).status_code == 401
        self._ended(held.session)

    @precondition(lambda self: self.devices)
    @rule(data=st.data())
    def log_out(self, data):
        device = data.draw(st.sampled_from(sorted(self.devices)))
        assert self._post("auth-logout", access=self.devices[device].access).status_code == 204
        self._ended(self.devices[device].session)

    @precondition(lambda self: self.devices)
    @rule(data=st.data())
    def change_password(self, data):
        device = data.draw(st.sampled_from(sorted(self.devices)))
        new_password = f"{self.password}!"
        response = self._post(
            "users-me-password",
            {"old_password": self.password, "new_password": new_password},
            access=self.devices[device].access,
        )
        assert response.status_code == 200
        self.password = new_password
        for session in set(self.alive):
            self._ended(session)
        self.devices[device] = Device(response.json())
        self.alive.add(self.devices[device].session)

    @precondition(lambda self: self.devices)
    @rule(data=st.data())
    def revoke_the_others(self, data):
        device = data.draw(st.sampled_from(sorted(self.devices)))
        keep = self.devices[device].session
        assert self._post("auth-session-revoke-others", access=self.devices[device].access).status_code == 204
        for session in set(self.alive) - {keep}:
            self._ended(session)

    @precondition(lambda self: self.devices)
    @rule(data=st.data())
    def end_one_from_the_list(self, data):
        device = data.draw(st.sampled_from(sorted(self.devices)))
        target = data.draw(st.sampled_from(sorted(self.alive)))
        response = self.client.delete(
            reverse("auth-session-detail", kwargs={"pk": target}),
            HTTP_AUTHORIZATION=f"Bearer {self.devices[device].access}",
        )
        assert response.status_code == 204
        self._ended(target)

    @rule()
    def lose_the_cache(self):
        """A cache restart changes nothing: the database has every ending."""
        cache.clear()

    def _read(self, access: str):
        return self.client.get(reverse("diary-list"), HTTP_AUTHORIZATION=f"Bearer {access}")

    @invariant()
    def tokens_work_exactly_while_their_session_is_alive(self):
        held_sessions = {held.session for held in self.devices.values()}
        assert held_sessions | set(self.forgotten) == self.alive
        for access in [held.access for held in self.devices.values()] + [p["access"] for p in self.forgotten.values()]:
            assert self._read(access).status_code == 200
        for pair in self.retired:
            response = self._read(pair["access"])
            assert response.status_code == 401
            assert response.json()["errors"][0]["code"] == "session_ended"
            assert self._post("auth-token-refresh", {"refresh": pair["refresh"]}).status_code == 401

    @invariant()
    def the_sessions_list_is_the_alive_set(self):
        if not self.devices:
            return
        held = next(iter(self.devices.values()))
        listed = self.client.get(
            reverse("auth-session-list"), {"page_size": 200}, HTTP_AUTHORIZATION=f"Bearer {held.access}"
        ).json()
        assert {item["id"] for item in listed["results"]} == self.alive
        assert [item["id"] for item in listed["results"] if item["current"]] == [held.session]


def test_any_interleaving_leaves_exactly_the_expected_sessions_alive(throttle_rates):
    throttle_rates(login_account="100000/min", login_ip="100000/min", user="100000/min", ip="100000/min")
    run_state_machine_as_test(
        Sessions,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
