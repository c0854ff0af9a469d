"""A clock that moves only when a test moves it: `clock.now += 31`."""

from __future__ import annotations


class Clock:
    """Seconds, as `time.time` gives them, held still."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
