"""Engines and sessions. One transaction owner per request or CLI job: `session_scope`,
with after-commit hooks that services register (`after_commit`)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from app.config import Settings
from app.privacy import cipher

log = logging.getLogger(__name__)

# Requests in progress (app.in_flight) and sync endpoints' worker threads (app.main) are capped
# at this number and the pool holds as many connections, so a request never waits for a
# connection: a request takes one (its session's). A few spare ones serve the odd request that
# opens a second session (the finance page's fresh read) and CLI jobs.
WORKER_THREADS = 40
SPARE_CONNECTIONS = 10
# A request waits this long for a slot in a burst, then gets 503 with Retry-After: a burst
# is answered at once rather than queued for many seconds.
IN_FLIGHT_WAIT_SECONDS = 0.5
# Should the pool still run dry: a short wait, then 503 (app.errors), not a 30 s stall and 500.
POOL_TIMEOUT_SECONDS = 2.0


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    pool = {
        "pool_size": WORKER_THREADS,
        "max_overflow": SPARE_CONNECTIONS,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        _configure_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    else:
        engine = create_engine(url, pool_pre_ping=True, **pool)
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


def take_write_lock_first(session: Session) -> None:
    """On SQLite, make the transaction a writer before it reads. A deferred transaction that
    reads and then writes fails at once ("database is locked", no busy wait) when another
    connection committed in between, such as a job's heartbeat during a round commit; a
    transaction that writes first waits its turn instead. PostgreSQL needs nothing here."""
    if is_sqlite(session):
        session.execute(text("UPDATE round_lock SET holder = holder WHERE id = 1"))


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


def ends_without_io(session: Session) -> bool:
    """Whether leaving `session_scope` now would send nothing to the database: no transaction
    open (none begun, or the caller ended its own) and no after-commit hook waiting."""
    return not session.in_transaction() and not session.info.get(_HOOKS)


def _run_hooks(session: Session) -> None:
    for hook in session.info.pop(_HOOKS, []):
        try:
            hook()
        except Exception:
            log.exception("after-commit hook %r failed; the commit stands", hook)


def write_first(session: Session) -> None:
    """On SQLite, take the one write lock now, waiting up to the busy timeout for it, as
    BEGIN IMMEDIATE would. A write after a read in one transaction fails at once, without
    waiting, if another writer committed in between: under a burst of updates most would get
    503. The caller must not have written yet: its reads so far (the principal) are committed
    first. PostgreSQL's row locks wait on their own; nothing to do there."""
    if is_sqlite(session.get_bind().engine):
        session.commit()
        session.execute(text("UPDATE audit_log SET id = id WHERE 0 = 1"))  # changes nothing


def lock_for_counting(session: Session, key: str) -> None:
    """Serialise, until this transaction ends, every transaction that counts under `key`, so
    "count the recent records, then add one" is atomic: parallel requests cannot all see the
    count below the limit. PostgreSQL: a transaction-scoped advisory lock on a hash of the key.
    SQLite: its one write lock (`write_first`); SQLite serialises writers anyway."""
    if is_sqlite(session.get_bind().engine):
        write_first(session)
        return
    digest = hashlib.sha256(key.encode()).digest()[:8]
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"),
        {"key": int.from_bytes(digest, "big", signed=True)},
    )


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
