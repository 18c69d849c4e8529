"""Request-scoped dependencies: settings, engine and the one transaction per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Annotated

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Request
from sqlmodel import Session

from app.config import Settings
from app.db import ends_without_io, session_scope


async def get_app_settings(request: Request) -> Settings:  # async: no threadpool hop
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request. Opening it is no I/O (the session connects at its first
    statement), so that happens here, on the event loop: as a sync dependency its entry cost
    a worker-thread hop, one of four per branch list (issue 18.2, bench/RESULTS.md). Its end
    commits or rolls back, which is I/O, so it runs in a worker thread as FastAPI runs a sync
    dependency's exit (with a limiter of its own: an exit never waits behind requests waiting
    for a thread); unless the endpoint already ended its transaction (`end_read`)."""
    scope = session_scope(request.app.state.engine)
    session = scope.__enter__()
    try:
        yield session
    except Exception as exc:
        if not await _end(scope, session, exc):
            raise
    else:
        await _end(scope, session, None)


async def _end(
    scope: AbstractContextManager[Session], session: Session, exc: Exception | None
) -> bool:
    error = (type(exc), exc, exc.__traceback__) if exc is not None else (None, None, None)
    if exc is None and ends_without_io(session):
        return bool(scope.__exit__(*error))
    ended = await anyio.to_thread.run_sync(scope.__exit__, *error, limiter=CapacityLimiter(1))
    return bool(ended)


def read_only(session: Session) -> None:
    """A read-only request's statements run on their own, without a transaction: no BEGIN and
    COMMIT round trips around them (two of a branch list's six). Under READ COMMITTED,
    PostgreSQL's default and ours, each statement of a transaction takes its own snapshot
    anyway, so nothing a reader sees changes. Call before the request's first statement.
    On SQLite, whose transactions are begun explicitly (app/db.py), nothing changes."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def end_read(session: Session) -> None:
    """Commit a read-only request's transaction in the endpoint's own worker thread, so its
    end on the event loop has nothing left to send."""
    session.commit()


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# "function" scope: commit happens before the response is sent, so a 200 means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
