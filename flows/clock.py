"""Clocks: the engine takes a callable returning naive UTC, so tests can move time by hand."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

Clock = Callable[[], datetime]


class FakeClock:
    """A clock that stands still until told to move (idle timeouts in tests and transcripts)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 4, 1, 1, 0)  # 10:00 in Tokyo

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
