"""Waiting for a job that a real worker (a huey consumer) runs."""

from __future__ import annotations

import time

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs.schemas import JobRead
from app.jobs.service import read_job

FINAL = ("succeeded", "failed", "cancelled")


def wait_for_job(engine: Engine, job_id: int, *, until: tuple[str, ...] = FINAL,
                 timeout: float = 60.0) -> JobRead:  # fmt: skip
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            job = read_job(session, job_id=job_id)
        if job.status in until or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
