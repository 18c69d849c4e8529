"""A job as the API answers it (the pages and the CLI read the same view)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.clock import utcnow
from app.jobs.messages_json import message_from_columns
from app.jobs.store import UNSTOPPABLE
from app.messages import in_english
from app.progress import fraction
from app.tables import Job
from coded_messages import Message


class JobRead(BaseModel):
    id: int
    kind: str
    status: str
    phase: str | None
    step: int
    steps: int
    done: int
    total: int | None
    percent: float
    elapsed_seconds: float | None
    eta_seconds: float | None
    cancellable: bool
    cancel_requested: bool
    result: dict[str, Any]
    error: str | None  # in English; error_code and error_params say it as a code
    error_code: str | None
    error_params: dict[str, Any] | None
    attempts: int
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobList(BaseModel):
    items: list[JobRead]
    total: int


def job_read(job: Job) -> JobRead:
    assert job.id is not None
    done = fraction(step=job.step, steps=job.steps, done=job.done, total=job.total)
    if job.status == "succeeded":
        done = 1.0
    elapsed = _elapsed(job)
    said = job_error(job)
    return JobRead(
        id=job.id, kind=job.kind, status=job.status, phase=job.phase, step=job.step,
        steps=job.steps, done=job.done, total=job.total, percent=round(100 * done, 1),
        elapsed_seconds=elapsed, eta_seconds=_eta(job, elapsed, done),
        cancellable=job.status == "queued"
        or (job.status == "running" and job.phase not in UNSTOPPABLE and not job.cancel_requested),
        cancel_requested=job.cancel_requested, result=json.loads(job.result),
        error=in_english(said) if said else None, error_code=job.error_code,
        error_params=json.loads(job.error_params) if job.error_params else None,
        attempts=job.attempts, requested_by=job.requested_by, created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at,
    )  # fmt: skip


def job_error(job: Job) -> Message | None:
    return message_from_columns(job.error_code, job.error_params)


def _elapsed(job: Job) -> float | None:
    if job.started_at is None:
        return None
    end = job.finished_at or utcnow()
    return max((end - job.started_at).total_seconds(), 0.0)


def _eta(job: Job, elapsed: float | None, done: float) -> float | None:
    """Seconds left at the pace so far; None before any measurable progress."""
    if job.status != "running" or elapsed is None or done <= 0.0:
        return None
    return elapsed * (1.0 - done) / done
