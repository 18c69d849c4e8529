"""Jobs as the API, the pages and the CLI see them: start, read, list, cancel."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from app.config import Settings
from app.db import session_scope
from app.errors import Conflict, NotFound
from app.jobs import store
from app.jobs.queue import queue_for
from app.jobs.schemas import JobList, JobRead, job_read
from app.jobs.work import JobKind
from app.tables import Job
from coded_messages import Message, message

LANE_BUSY: Mapping[str, Message] = {"round": message("round.busy")}


def start_job(
    engine: Engine, *, settings: Settings, kind: JobKind, params: Mapping[str, Any], actor: str
) -> int:
    """Record the job as queued, then hand its id to the queue. Refused while another job of
    the same lane is queued or running: the database's unique index decides, atomically."""
    job = Job(
        kind=kind.name, lane=kind.lane, params=json.dumps(dict(params)), requested_by=actor,
        steps=len(kind.phases(params)),
    )  # fmt: skip
    try:
        with session_scope(engine) as session:
            session.add(job)
            session.flush()
            job_id = job.id
    except IntegrityError:
        raise Conflict(LANE_BUSY.get(kind.lane or "", message("job.lane_busy"))) from None
    assert job_id is not None
    queue_for(settings).dispatch(job_id)
    return job_id


def read_job(session: Session, *, job_id: int) -> JobRead:
    return job_read(_row(session, job_id))


def list_jobs(session: Session, *, limit: int, offset: int) -> JobList:
    rows = session.exec(select(Job).order_by(col(Job.id).desc()).limit(limit).offset(offset))
    total = session.exec(select(func.count()).select_from(Job)).one()
    return JobList(items=[job_read(row) for row in rows], total=total)


def cancel_job(engine: Engine, *, job_id: int) -> None:
    """A queued job is cancelled at once; a running one stops before its next phase; a job in
    its commit cannot be stopped (the commit is one transaction)."""
    with session_scope(engine) as session:
        _row(session, job_id)
    if store.cancel_queued(engine, job_id) or store.ask_running_to_stop(engine, job_id):
        return
    with session_scope(engine) as session:
        job = _row(session, job_id)
    raise Conflict(
        message("job.not_cancellable", job=job_id, job_status=job.status, phase=job.phase or "")
    )


def _row(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job
