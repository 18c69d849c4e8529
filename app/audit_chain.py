"""The audit log's hash chain: `o2o audit seal` links new records, `o2o audit verify` checks.

Records are inserted as before (no shared row to update, so audited transactions never
queue behind each other); sealing later appends one ``audit_seal`` row per record in id
order: ``hash_i = SHA-256(hash_{i-1} || "\\n" || canonical bytes of record i)``, starting
from 64 zeros. Changing, deleting or reordering a sealed record breaks its link (and the
next one); the head hash that `verify` prints can be kept elsewhere to pin the whole chain.

Sealing in id order is only sound if no record with a smaller id can still appear. On
SQLite the sealer holds the one write lock, so every record it can ever see is there. On
PostgreSQL ids are drawn from a sequence and transactions commit in any order, so a seal
run first leaves a *mark* (the last id handed out, then the next transaction id); an
insert trigger (migration 0003) draws the id only after the transaction has its xid, so
every id up to the mark belongs to a transaction below the mark's xid. A later run seals
up to the newest mark below which no transaction of this database is still running. With
nothing in flight, one run seals everything. Concurrent sealers take one advisory lock.
(Running transactions are found through the snapshot and pg_stat_activity, which every role
may read; the app uses no prepared two-phase transactions, which that would not show.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import locks
from app.db import after_commit, session_scope
from app.tables import AuditRecord, AuditSeal
from app.tables.base import utcnow

GENESIS = "0" * 64
SEAL_LOCK = locks.AUDIT_SEAL
_CHUNK = 5_000
_LOG = AuditRecord.__table__  # type: ignore[attr-defined]
_SEAL = AuditSeal.__table__  # type: ignore[attr-defined]
_FIELDS = ("id", "at", "actor", "action", "entity_type", "entity_id", "request_id", "detail")

_PG_LAST_ID = "SELECT pg_sequence_last_value(pg_get_serial_sequence('audit_log', 'id'))"
_PG_NEXT_XID = "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
_MARK = """
    INSERT INTO audit_seal_mark (upto_id, xid_bound, created_at)
    SELECT :upto, :xid, :now
    WHERE :upto > COALESCE((SELECT MAX(upto_id) FROM audit_seal_mark), 0)
"""
# The oldest transaction of this database still running (xids are cluster-wide; a long
# transaction in another database must not hold sealing back). pg_stat_activity shows the
# 32-bit xid, the snapshot the 64-bit one.
_PG_OLDEST_RUNNING = """
    SELECT MIN(r.xid::text::bigint)
    FROM pg_snapshot_xip(pg_current_snapshot()) AS r(xid)
    JOIN pg_stat_activity a ON a.datname = current_database()
     AND a.backend_xid::text::bigint = r.xid::text::bigint % 4294967296
"""
_SQLITE_MARK = """
    INSERT INTO audit_seal_mark (upto_id, xid_bound, created_at)
    SELECT m, 0, :now FROM (SELECT COALESCE(MAX(id), 0) AS m FROM audit_log)
    WHERE m > COALESCE((SELECT MAX(upto_id) FROM audit_seal_mark), 0)
"""
_FINAL_MARK = "SELECT MAX(upto_id) FROM audit_seal_mark WHERE xid_bound <= :oldest"


@dataclass(frozen=True, slots=True)
class SealResult:
    sealed: int  # links added by this run
    head_id: int | None
    head_hash: str
    pending: int  # records not sealable yet (a transaction older than them is running)


@dataclass(slots=True)
class ChainReport:
    records: int = 0
    sealed: int = 0
    pending: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)


def canonical(record: Any) -> bytes:
    """The bytes a link covers: every column, in a fixed order and format."""
    at: datetime = record.at
    values = [getattr(record, name) for name in _FIELDS]
    values[1] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def link(previous: str, record: Any) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + canonical(record)).hexdigest()


def seal_after_commit(engine: Engine) -> SealResult:
    """Seal in a transaction of its own, once the caller's has committed: a round commit or
    a period close links its audit record into the chain at once, not at the next verify."""
    with session_scope(engine) as session:
        return seal(session)


def seal_once_committed(session: Session) -> None:
    """Have this unit of work's audit records sealed right after it commits."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    after_commit(session, lambda: seal_after_commit(engine))


def seal(session: Session, *, now: datetime | None = None) -> SealResult:
    """Chain every record that can be sealed safely; the caller commits."""
    now = now or utcnow()
    bound = _sealable_bound(session, now=now)
    head_id, head_hash = _head(session)
    sealed = 0
    while True:
        query = select(_LOG).where(_LOG.c.id > (head_id or 0), _LOG.c.id <= bound)
        rows = session.execute(query.order_by(_LOG.c.id).limit(_CHUNK)).all()
        if not rows:
            break
        links = []
        for row in rows:
            head_id, head_hash = row.id, link(head_hash, row)
            links.append({"audit_id": head_id, "hash": head_hash, "sealed_at": now})
        session.execute(insert(_SEAL), links)
        sealed += len(links)
    pending = session.execute(
        select(func.count()).select_from(_LOG).where(_LOG.c.id > bound)
    ).scalar_one()
    return SealResult(sealed=sealed, head_id=head_id, head_hash=head_hash, pending=int(pending))


def _sealable_bound(session: Session, *, now: datetime) -> int:
    """The largest id below which no audit record can still appear."""
    if session.get_bind().dialect.name == "sqlite":
        # A write statement first: it takes the one writer lock, so no insert is in flight.
        session.execute(text(_SQLITE_MARK), {"now": now})
        return int(session.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar_one())
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEAL_LOCK})
    upto = session.execute(text(_PG_LAST_ID)).scalar_one()  # read before the xid, not after
    xid = session.execute(text(_PG_NEXT_XID)).scalar_one()
    session.execute(text(_MARK), {"upto": int(upto or 0), "xid": int(xid), "now": now})
    oldest = session.execute(text(_PG_OLDEST_RUNNING)).scalar_one()
    params = {"oldest": (1 << 62) if oldest is None else int(oldest)}
    return int(session.execute(text(_FINAL_MARK), params).scalar_one() or 0)


def _head(session: Session) -> tuple[int | None, str]:
    query = select(_SEAL.c.audit_id, _SEAL.c.hash).order_by(_SEAL.c.audit_id.desc()).limit(1)
    found = session.execute(query).first()
    return (None, GENESIS) if found is None else (int(found[0]), str(found[1]))


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Recompute every link from the stored records; problems are listed in id order."""
    report = ChainReport()
    last_sealed, _ = _head(session)
    previous = GENESIS
    for audit_id, record, stored in _walk(session):
        report.records += record is not None
        if stored is None:
            if last_sealed is not None and audit_id < last_sealed:
                report.problems.append(
                    f"audit record {audit_id}: not in the chain although later records are "
                    "(inserted after sealing)"
                )
            else:
                report.pending += 1
            continue
        report.sealed += 1
        if record is None:
            report.problems.append(f"audit record {audit_id}: sealed, but missing (deleted)")
        elif link(previous, record) != stored:
            report.problems.append(
                f"audit record {audit_id}: does not match its seal (changed, or a record "
                "before it was removed or moved)"
            )
        previous, report.head_id, report.head_hash = stored, audit_id, stored
    if anchor is not None:
        _check_anchor(session, anchor=anchor, report=report)
    return report


def _check_anchor(session: Session, *, anchor: tuple[int, str], report: ChainReport) -> None:
    audit_id, expected = anchor
    found = session.execute(select(_SEAL.c.hash).where(_SEAL.c.audit_id == audit_id)).first()
    if found is None or str(found[0]) != expected:
        report.problems.append(
            f"audit record {audit_id}: the chain no longer has the anchored hash {expected}"
        )


def _walk(session: Session) -> Iterator[tuple[int, Any, str | None]]:
    """(id, record or None, stored link or None) over records and links, in id order."""
    after = 0
    while True:
        query = select(_LOG).where(_LOG.c.id > after).order_by(_LOG.c.id).limit(_CHUNK)
        records: Sequence[Any] = session.execute(query).all()
        upper = records[-1].id if len(records) == _CHUNK else None
        links = select(_SEAL.c.audit_id, _SEAL.c.hash).where(_SEAL.c.audit_id > after)
        if upper is not None:
            links = links.where(_SEAL.c.audit_id <= upper)
        stored = {int(r[0]): str(r[1]) for r in session.execute(links)}
        by_id = {int(r.id): r for r in records}
        for audit_id in sorted(by_id.keys() | stored.keys()):
            yield audit_id, by_id.get(audit_id), stored.get(audit_id)
        if upper is None:
            return
        after = upper
