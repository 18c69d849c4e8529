"""How long work says where it is: `progress(phase, done, total)`.

A service calls it when it enters a phase and, where it can count, as it goes (`total` None:
not known in advance). A job's reporter stores it (and may stop the work between phases by
raising `Stopped`); the CLI prints it. The service knows neither.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]


class Stopped(Exception):
    """The work was cancelled between two phases; nothing of the next phase has started."""


def quiet(phase: str, done: int, total: int | None) -> None:
    """Progress nobody watches."""


def fraction(*, step: int, steps: int, done: int, total: int | None) -> float:
    """How far the work is, 0..1: each phase counts the same; within one, done/total when known."""
    if steps <= 0 or step <= 0:
        return 0.0
    within = min(done / total, 1.0) if total else 0.0
    return min((step - 1 + within) / steps, 1.0)
