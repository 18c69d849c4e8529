"""The one place the product reads the time of day.

Everything that needs "now" (deadlines, periods, lockouts, token expiry, audit stamps) calls
`utcnow()`. Production reads the system clock; tests pin it (`pinned_at`) so a suite that passes
today passes next month, and a replay or a demo can run at a chosen instant.

A pinned clock still advances with the monotonic clock from the instant it was pinned, so code
that measures durations (lock ages, elapsed times) keeps working; `frozen_at` stops it entirely.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Clock = system_clock


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC, from the installed clock."""
    return _clock()


def install(clock: Clock) -> Clock:
    """Make `clock` the process clock; returns the one it replaces."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def running_from(start: datetime) -> Clock:
    """A clock that reads `start` now and then advances in real time."""
    if start.tzinfo is None:
        raise ValueError("a clock starts at a timezone-aware instant")
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


@contextmanager
def pinned_at(start: datetime) -> Iterator[None]:
    previous = install(running_from(start))
    try:
        yield
    finally:
        install(previous)


class FrozenClock:
    """A clock that moves only when told to (for deadline and expiry tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@contextmanager
def frozen_at(at: datetime) -> Iterator[FrozenClock]:
    clock = FrozenClock(at)
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)


def install_start(start: datetime | None) -> None:
    """Pin the process to `start` (the O2O_CLOCK_START setting), or leave the system clock."""
    if start is not None:
        install(running_from(start))
