"""Where a phase's time goes: every SQL statement with its time.

with slow_statements(engine, seconds=0.5):
    ...  # prints "  sql 12.3 s: UPDATE lead SET ..." as each slow statement ends
with timed_statements(engine, lambda statement, seconds: ...):
    ...  # calls back with every statement's text and seconds
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def timed_statements(engine: Engine, on_statement: Callable[[str, float], None]) -> Iterator[None]:
    """Calls `on_statement(its text, seconds)` as each statement on the engine ends."""

    def started(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("statement_started", []).append(time.perf_counter())

    def ended(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        on_statement(statement, time.perf_counter() - conn.info["statement_started"].pop())

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", started)
        event.remove(engine, "after_cursor_execute", ended)


def first_words(statement: str, length: int) -> str:
    return " ".join(statement.split())[:length]


@contextmanager
def slow_statements(engine: Engine, *, seconds: float) -> Iterator[None]:
    def report(statement: str, took: float) -> None:
        if took >= seconds:
            print(f"  sql {took:.1f} s: {first_words(statement, 110)}", flush=True)

    with timed_statements(engine, report):
        yield
