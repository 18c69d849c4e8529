"""Every change of a job row, each its own short transaction, each conditional on the state it
expects (a claimed job is `running` and held by this worker), so concurrent workers, a cancel
and the recovery sweep cannot overwrite each other on either database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, func, select

from app.db import session_scope
from app.tables import Job
from app.tables.base import utcnow
from coded_messages import Message

from .messages_json import params_to_json

# Phases that are one transaction each (a round's commit, an import): whole or not at all, so a
# job in one of them runs to its end.
UNSTOPPABLE = ("commit", "import")


def _change(engine: Engine, job_id: int, *where: ColumnElement[bool], **values: Any) -> bool:
    statement = update(Job).where(col(Job.id) == job_id, *where).values(**values)
    with session_scope(engine) as session:
        return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def _held_by(worker: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return col(Job.status) == "running", col(Job.worker) == worker


def claim(engine: Engine, job_id: int, *, worker: str, lease_until: datetime) -> Job | None:
    """Take a queued job for this worker; None if it is not queued (done, cancelled, taken)."""
    now = utcnow()
    taken = _change(
        engine, job_id, col(Job.status) == "queued",
        status="running", worker=worker, lease_until=lease_until, attempts=Job.attempts + 1,
        started_at=now, cancel_requested=False,
    )  # fmt: skip
    if not taken:
        return None
    with session_scope(engine) as session:
        return session.get(Job, job_id)


def enter_phase(
    engine: Engine, job_id: int, *, worker: str, phase: str, step: int, total: int | None,
    lease_until: datetime,
) -> bool:  # fmt: skip
    """Move to the next phase unless a cancel was asked for (False: stop here)."""
    return _change(
        engine, job_id, *_held_by(worker), col(Job.cancel_requested).is_(False),
        phase=phase, step=step, done=0, total=total, lease_until=lease_until,
    )  # fmt: skip


def advance(
    engine: Engine, job_id: int, *, worker: str, done: int, total: int | None,
    lease_until: datetime,
) -> bool:  # fmt: skip
    return _change(
        engine, job_id, *_held_by(worker), done=done, total=total, lease_until=lease_until
    )


def renew(engine: Engine, job_id: int, *, worker: str, lease_until: datetime) -> bool:
    return _change(engine, job_id, *_held_by(worker), lease_until=lease_until)


def remember(engine: Engine, job_id: int, *, worker: str, key: str, value: Any) -> None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.worker != worker:
            return
        job.result = json.dumps({**json.loads(job.result), key: value})
        session.add(job)


def finish(
    engine: Engine, job_id: int, *, worker: str, status: str, error: Message | None = None
) -> bool:
    return _change(
        engine, job_id, *_held_by(worker),
        status=status, finished_at=utcnow(), lease_until=None,
        error_code=error.code if error else None,
        error_params=params_to_json(error) if error else None,
    )  # fmt: skip


def cancel_queued(engine: Engine, job_id: int) -> bool:
    return _change(
        engine, job_id, col(Job.status) == "queued", status="cancelled", finished_at=utcnow()
    )


def ask_running_to_stop(engine: Engine, job_id: int) -> bool:
    """Ask a running job to stop at its next phase; refused once it is in an unstoppable one."""
    return _change(
        engine, job_id, col(Job.status) == "running",
        col(Job.phase).is_(None) | col(Job.phase).not_in(UNSTOPPABLE),
        cancel_requested=True,
    )  # fmt: skip


def requeue(engine: Engine, job_id: int, *, expired_before: datetime) -> bool:
    return _change(
        engine, job_id, col(Job.status) == "running", col(Job.lease_until) < expired_before,
        status="queued", worker=None, lease_until=None,
    )  # fmt: skip


def fail_expired(engine: Engine, job_id: int, *, expired_before: datetime, error: Message) -> bool:
    return _change(
        engine, job_id, col(Job.status) == "running", col(Job.lease_until) < expired_before,
        status="failed", finished_at=utcnow(), lease_until=None, worker=None,
        error_code=error.code, error_params=params_to_json(error),
    )  # fmt: skip


def expired(engine: Engine, *, before: datetime) -> list[Job]:
    statement = select(Job).where(col(Job.status) == "running", col(Job.lease_until) < before)
    with session_scope(engine) as session:
        return list(session.exec(statement))


def queued_ids(engine: Engine) -> list[int]:
    statement = select(Job.id).where(col(Job.status) == "queued").order_by(col(Job.id))
    with session_scope(engine) as session:
        return [job_id for job_id in session.exec(statement) if job_id is not None]


def count_running(engine: Engine) -> int:
    statement = select(func.count()).select_from(Job).where(col(Job.status) == "running")
    with session_scope(engine) as session:
        return int(session.exec(statement).one())
