"""What a worker does with a job id from the queue: claim the job, run its kind's code with a
progress reporter whose beat renews the lease, and record how it ended."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from app.config import Settings
from app.errors import AppError
from app.faults import crash_point
from app.jobs import store
from app.jobs.work import Work
from app.progress import Stopped
from app.tables.base import utcnow
from coded_messages import Message, message

log = logging.getLogger(__name__)
BEAT_SECONDS = 1.0  # counts within a phase are stored (and the lease renewed) this often


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def execute(engine: Engine, settings: Settings, job_id: int) -> None:
    """Run job `job_id` if it is still queued (a message may arrive twice, or after a cancel)."""
    from app.jobs.kinds import KINDS  # here: the kinds' own modules queue jobs through app.jobs

    lease = timedelta(seconds=settings.job_lease_seconds)
    worker = worker_name()
    job = store.claim(engine, job_id, worker=worker, lease_until=utcnow() + lease)
    if job is None:
        return
    kind = KINDS[job.kind]
    params: Mapping[str, Any] = json.loads(job.params)
    reporter = Reporter(engine, job_id, worker=worker, phases=kind.phases(params), lease=lease)
    work = Work(
        engine=engine, settings=settings, job_id=job_id, params=params,
        result=json.loads(job.result), requested_by=job.requested_by, progress=reporter,
        remember=lambda key, value: store.remember(engine, job_id, worker=worker, key=key,
                                                   value=value),
    )  # fmt: skip
    with reporter.beating():
        status, error = _run(kind.run, work)
    store.finish(engine, job_id, worker=worker, status=status, error=error)


def _run(run: Callable[[Work], None], work: Work) -> tuple[str, Message | None]:
    try:
        run(work)
    except Stopped:
        return "cancelled", None
    except AppError as exc:
        return "failed", exc.coded or message("job.refused", detail=exc.message)
    except Exception:
        log.exception("job %s failed", work.job_id)
        return "failed", message("job.crashed")
    return "succeeded", None


class Reporter:
    """The job's `progress`. A new phase is stored at once (between phases, nothing else is
    writing) and is where a cancel stops the job; counts within a phase are only noted, and the
    beat thread stores them with the lease: a count may come from inside a transaction that, on
    SQLite, holds the one write lock, which the job must not wait for itself."""

    def __init__(
        self, engine: Engine, job_id: int, *, worker: str, phases: tuple[str, ...],
        lease: timedelta,
    ) -> None:  # fmt: skip
        self.engine, self.job_id, self.worker = engine, job_id, worker
        self.phases, self.lease = phases, lease
        self.phase: str | None = None
        self._noted: tuple[int, int | None] | None = None
        self._guard = threading.Lock()

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase == self.phase:
            with self._guard:
                self._noted = (done, total)
            return
        crash_point(f"job.{phase}")
        with self._guard:
            self._noted = None
        if not store.enter_phase(
            self.engine, self.job_id, worker=self.worker, phase=phase,
            step=self.phases.index(phase) + 1, total=total, lease_until=self._lease(),
        ):  # fmt: skip
            raise Stopped(phase)
        self.phase = phase

    @contextmanager
    def beating(self) -> Iterator[None]:
        """Renew the lease (with the latest counts) while the job runs, also through long
        phases that count nothing (the solver's first flow, a commit's big statements)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._beat, args=(stop,), name=f"job-{self.job_id}-beat", daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self._beat_once()

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(min(BEAT_SECONDS, self.lease.total_seconds() / 3)):
            self._beat_once()

    def _beat_once(self) -> None:
        with self._guard:
            noted, self._noted = self._noted, None
        try:
            if noted is None:
                store.renew(self.engine, self.job_id, worker=self.worker, lease_until=self._lease())
            else:
                store.advance(
                    self.engine, self.job_id, worker=self.worker, done=noted[0], total=noted[1],
                    lease_until=self._lease(),
                )  # fmt: skip
        except Exception:  # a busy SQLite file: the next beat tries again
            log.warning("job %s: lease not renewed this time", self.job_id, exc_info=True)

    def _lease(self) -> datetime:
        return utcnow() + self.lease
