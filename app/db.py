"""Engines and sessions. One transaction owner per request or CLI job: `session_scope`."""

from __future__ import annotations

from collections.abc import Iterator
import hashlib
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.config import Settings


# Sync endpoints run in anyio's worker threads; the app caps them at this number (app.main) and
# the pool holds as many connections, so a thread never waits for a connection another thread's
# request holds. A request takes one connection at most (its session).
WORKER_THREADS = 40
# Beyond that (a CLI job or a second engine sharing the database), a short wait, then 503.
POOL_TIMEOUT_SECONDS = 2.0


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    pool = {"pool_size": WORKER_THREADS, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT_SECONDS}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        _configure_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


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


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def lock_for_counting(session: Session, key: str) -> None:
    """Serialise, until this transaction ends, every transaction that counts under `key`, so
    "count the recent records, then add one" is atomic: parallel requests cannot all see the
    count below the limit. PostgreSQL: a transaction-scoped advisory lock on a hash of the key.
    SQLite: its one write lock, taken first (a write that changes nothing), as BEGIN IMMEDIATE
    would; SQLite serialises writers anyway, and so the key is not needed."""
    if is_sqlite(session.get_bind().engine):
        session.execute(text("UPDATE audit_record SET id = id WHERE 0 = 1"))
        return
    digest = hashlib.sha256(key.encode()).digest()[:8]
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """The one place a unit of work commits or rolls back."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
