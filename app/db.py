"""Engines and sessions. One transaction owner per request or CLI job: `session_scope`,
with after-commit hooks that services register (`after_commit`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from app.config import Settings
from app.privacy import cipher

log = logging.getLogger(__name__)


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    cipher.register(engine, settings.data_key_bytes)
    return engine


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Foreign keys on, WAL for concurrent readers, and a busy timeout instead of instant errors."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is replaced by an explicit BEGIN below, so that
        # SQLAlchemy's transaction boundaries are the database's. BEGIN stays DEFERRED: a
        # request that reads while a round job writes in its own transactions must not block it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def is_sqlite(bind: Engine | Connection | Session) -> bool:
    """Whether an engine, connection or session talks to SQLite (the one dialect test)."""
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "sqlite"
    return bind.dialect.name == "sqlite"


AfterCommit = Callable[[], object]
_HOOKS = "o2o.after_commit"


def after_commit(session: Session, hook: AfterCommit) -> None:
    """Run `hook` once this unit of work has committed (never if it rolls back).

    Services register what must follow a commit (sealing the audit chain) themselves, so no
    caller (CLI, API, page) can forget it. A hook failing does not undo the commit: it is
    logged, and the work it does must be safe to repeat later.
    """
    session.info.setdefault(_HOOKS, []).append(hook)


def _run_hooks(session: Session) -> None:
    for hook in session.info.pop(_HOOKS, []):
        try:
            hook()
        except Exception:
            log.exception("after-commit hook %r failed; the commit stands", hook)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """The one place a unit of work commits or rolls back, then runs its after-commit hooks."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.info.pop(_HOOKS, None)
            session.rollback()
            raise
        _run_hooks(session)
