"""Where a phase's time goes: every SQL statement slower than a threshold, with its time.

with slow_statements(engine, seconds=0.5):
    ...  # prints "  sql 12.3 s: UPDATE lead SET ..." as each slow statement ends
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def slow_statements(engine: Engine, *, seconds: float) -> Iterator[None]:
    def started(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("statement_started", []).append(time.perf_counter())

    def ended(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        took = time.perf_counter() - conn.info["statement_started"].pop()
        if took >= seconds:
            print(f"  sql {took:.1f} s: {' '.join(statement.split())[:110]}", flush=True)

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", ended)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", started)
        event.remove(engine, "after_cursor_execute", ended)
