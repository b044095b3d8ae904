"""What other apps add to the measurement services, registered from their AppConfig.ready():
measurements imports no app but users (docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.measurements.models import Measurement
    from apps.users.models import User

# Each is called as hook(user=, measurements=).
RecordedHook = Callable[..., object]

_on_recorded: list[RecordedHook] = []


def on_recorded(hook: RecordedHook) -> RecordedHook:
    """Call `hook(user=, measurements=)` inside the transaction that records new values
    (create, correct, bulk), with the rows just written; the goals app marks the goals they
    reach as achieved. A plain call, not a signal: it runs once, in the order registered."""
    if hook not in _on_recorded:
        _on_recorded.append(hook)
    return hook


def recorded(*, user: User, measurements: Sequence[Measurement]) -> None:
    """Run the hooks for values just recorded (the measurement services call this)."""
    for hook in _on_recorded:
        hook(user=user, measurements=measurements)
