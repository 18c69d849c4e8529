"""Only one round may solve or commit at a time, on SQLite and PostgreSQL alike.

The lock is a single row taken with a conditional UPDATE in its own short transaction, so a
second request sees it at once and gets 409. A holder that died (process killed) leaves a
stale row; after `STALE_AFTER` anyone may take it over.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.db import session_scope
from app.errors import Conflict
from app.tables import RoundLock
from app.tables.base import utcnow

STALE_AFTER = timedelta(minutes=30)


@contextmanager
def round_lock(engine: Engine, *, holder: str) -> Iterator[None]:
    _acquire(engine, holder=holder)
    try:
        yield
    finally:
        _release(engine, holder=holder)


def _acquire(engine: Engine, *, holder: str) -> None:
    now = utcnow()
    statement = (
        update(RoundLock)
        .where(col(RoundLock.id) == 1)
        .where(or_(col(RoundLock.holder).is_(None), col(RoundLock.acquired_at) < now - STALE_AFTER))
        .values(holder=holder, acquired_at=now)
    )
    with session_scope(engine) as session:
        taken = session.execute(statement).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        raise Conflict("another round is being solved or committed; try again when it is done")


def _release(engine: Engine, *, holder: str) -> None:
    statement = (
        update(RoundLock)
        .where(col(RoundLock.id) == 1, col(RoundLock.holder) == holder)
        .values(holder=None, acquired_at=None)
    )
    with session_scope(engine) as session:
        session.execute(statement)
