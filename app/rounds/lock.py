"""Only one round may solve or commit at a time, on SQLite and PostgreSQL alike.

The `round_lock` row says who holds the lock (the pages show it). On PostgreSQL the real guard
is a session advisory lock on a dedicated connection: the server drops it the moment the
holder's connection dies, so a killed process never blocks the next round. On SQLite (one host
by nature) the row itself is the lock, taken with a conditional UPDATE; a holder whose process
is gone, or who has held it longer than `STALE_AFTER`, may be taken over.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from app import locks
from app.db import session_scope
from app.errors import Conflict
from app.tables import RoundLock
from app.tables.base import utcnow
from coded_messages import message

STALE_AFTER = timedelta(minutes=30)
ADVISORY_KEY = locks.ROUND
BUSY = message("round.busy")


@contextmanager
def round_lock(engine: Engine, *, actor: str) -> Iterator[None]:
    holder = f"{actor}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if engine.dialect.name == "postgresql":
        with engine.connect() as guard:
            if not guard.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar():
                raise Conflict(BUSY)
            try:
                _write_holder(engine, holder=holder, only_if_free=False)
                yield
            finally:
                _clear(engine, holder=holder)
                _unlock(guard)
        return
    if not _write_holder(engine, holder=holder, only_if_free=True) and not _take_over_dead(
        engine, holder
    ):
        raise Conflict(BUSY)
    try:
        yield
    finally:
        _clear(engine, holder=holder)


def refuse_if_held(engine: Engine) -> None:
    """Refuse (round.busy) while a round holds the lock: queueing a round job checks this first,
    so HQ hears at once that another round runs rather than when the job fails."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as probe:
            free = probe.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            if not free.scalar():
                raise Conflict(BUSY)
            _unlock(probe)
        return
    with session_scope(engine) as session:
        current = session.get(RoundLock, 1)
        holder, since = (current.holder, current.acquired_at) if current else (None, None)
    held = holder is not None and since is not None and since >= utcnow() - STALE_AFTER
    if held and not _is_dead_here(holder or ""):
        raise Conflict(BUSY)


def _write_holder(engine: Engine, *, holder: str, only_if_free: bool) -> bool:
    now = utcnow()
    statement = (
        update(RoundLock).where(col(RoundLock.id) == 1).values(holder=holder, acquired_at=now)
    )
    if only_if_free:
        statement = statement.where(
            or_(col(RoundLock.holder).is_(None), col(RoundLock.acquired_at) < now - STALE_AFTER)
        )
    with session_scope(engine) as session:
        return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def _take_over_dead(engine: Engine, holder: str) -> bool:
    """Replace a holder whose process on this host no longer exists (it was killed)."""
    with session_scope(engine) as session:
        current = session.get(RoundLock, 1)
        previous = current.holder if current else None
    if previous is None or not _is_dead_here(previous):
        return False
    statement = (
        update(RoundLock)
        .where(col(RoundLock.id) == 1, col(RoundLock.holder) == previous)
        .values(holder=holder, acquired_at=utcnow())
    )
    with session_scope(engine) as session:
        return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def _is_dead_here(holder: str) -> bool:
    parts = holder.split(":")
    if len(parts) < 4 or parts[-3] != socket.gethostname() or not parts[-2].isdigit():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _clear(engine: Engine, *, holder: str) -> None:
    statement = (
        update(RoundLock)
        .where(col(RoundLock.id) == 1, col(RoundLock.holder) == holder)
        .values(holder=None, acquired_at=None)
    )
    with session_scope(engine) as session:
        session.execute(statement)


def _unlock(guard: Connection) -> None:
    guard.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
    guard.commit()
