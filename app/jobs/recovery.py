"""A job whose worker died (its lease ran out) is re-queued: every kind resumes safely (a round
remembers its stored preview; its commit is one transaction, so it happened whole or not). A job
that keeps killing its workers fails after MAX_ATTEMPTS."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from app.jobs import store
from app.tables.base import utcnow
from coded_messages import message

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def recover(engine: Engine) -> list[int]:
    """The ids re-queued; the others found expired are marked failed."""
    now = utcnow()
    requeued = []
    for job in store.expired(engine, before=now):
        assert job.id is not None
        if job.attempts < MAX_ATTEMPTS and store.requeue(engine, job.id, expired_before=now):
            log.warning("job %s: its worker %s died; queued again", job.id, job.worker)
            requeued.append(job.id)
        elif job.attempts >= MAX_ATTEMPTS:
            lost = message("job.worker_lost", attempts=job.attempts)
            store.fail_expired(engine, job.id, expired_before=now, error=lost)
    return requeued


def queued(engine: Engine) -> list[int]:
    return store.queued_ids(engine)


def any_running(engine: Engine) -> bool:
    return store.count_running(engine) > 0
