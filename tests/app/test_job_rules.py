"""The rules of jobs, on both databases without a worker (the job's own code is driven step by
step): one round job at a time, even under concurrent requests; cancelling a queued job, a
running one between phases, never one in its commit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.config import Settings
from app.db import session_scope
from app.errors import Conflict
from app.jobs import store
from app.jobs.runner import Reporter, execute
from app.jobs.service import cancel_job, read_job, start_job
from app.progress import Stopped
from app.rounds.job import PREVIEW_PHASES, ROUND_JOB, job_params, start_round_job
from app.rounds.lock import round_lock
from app.rounds.service import RoundParams
from app.tables import AllocationRound, Job
from app.tables.base import utcnow
from tests.app.rounds_world import pooled

__all__ = ["pooled"]  # a fixture


@pytest.fixture
def no_worker(settings: Settings) -> Settings:
    return settings.model_copy(update={"job_workers_in_process": 0})


def _start(engine: Engine, settings: Settings) -> int:
    return start_round_job(
        engine, settings=settings, actor="hq1", params=RoundParams(), commit=True
    )


def test_a_second_round_job_is_refused_while_one_is_queued(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    first = _start(engine, no_worker)
    with pytest.raises(Conflict) as refused:
        _start(engine, no_worker)
    assert refused.value.coded is not None
    assert refused.value.coded.code == "round.busy"
    cancel_job(engine, job_id=first)
    assert _start(engine, no_worker) > first  # a cancelled job frees the lane


def test_no_round_job_is_queued_while_a_round_holds_the_lock(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    with round_lock(engine, actor="cli:ops"), pytest.raises(Conflict):
        _start(engine, no_worker)
    with session_scope(engine) as session:
        assert session.exec(select(Job)).all() == []


def test_concurrent_requests_queue_exactly_one_round_job(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    """The partial unique index alone decides between racing inserts (atomic on PostgreSQL):
    the requests go past the round-lock check, straight to the insert."""
    racers = 8
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def race() -> None:
        barrier.wait()
        try:
            start_job(engine, settings=no_worker, kind=ROUND_JOB, actor="hq1",
                      params=job_params(params=RoundParams(), commit=True))  # fmt: skip
            outcomes.append("queued")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["queued"] + ["refused"] * (racers - 1)
    with session_scope(engine) as session:
        assert len(session.exec(select(Job).where(col(Job.status) == "queued")).all()) == 1


def _claimed(engine: Engine, settings: Settings) -> tuple[int, Reporter]:
    job_id = _start(engine, settings)
    lease = utcnow() + timedelta(days=366)  # a year on (replace(year=) fails on 29 February)
    assert store.claim(engine, job_id, worker="w", lease_until=lease) is not None
    reporter = Reporter(
        engine, job_id, worker="w", phases=(*PREVIEW_PHASES, "commit"),
        lease=lease - utcnow(),
    )  # fmt: skip
    return job_id, reporter


def test_a_running_job_stops_at_its_next_phase_when_cancelled(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    job_id, reporter = _claimed(engine, no_worker)
    reporter("pool", 0, None)
    cancel_job(engine, job_id=job_id)
    reporter("pool", 3, 5)  # counting within the phase goes on
    with pytest.raises(Stopped):
        reporter("solve", 0, None)
    with session_scope(engine) as session:
        assert read_job(session, job_id=job_id).phase == "pool"


def test_a_job_in_its_commit_cannot_be_cancelled(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    job_id, reporter = _claimed(engine, no_worker)
    reporter("commit", 0, None)
    with pytest.raises(Conflict) as refused:
        cancel_job(engine, job_id=job_id)
    assert refused.value.coded is not None
    assert refused.value.coded.code == "job.not_cancellable"
    with session_scope(engine) as session:
        job = read_job(session, job_id=job_id)
    assert (job.cancellable, job.cancel_requested) == (False, False)


def test_a_cancelled_queued_job_is_never_run(
    engine: Engine, no_worker: Settings, pooled: dict[str, int]
) -> None:
    job_id = _start(engine, no_worker)
    cancel_job(engine, job_id=job_id)
    execute(engine, no_worker, job_id)  # its message arrives anyway
    with session_scope(engine) as session:
        assert read_job(session, job_id=job_id).status == "cancelled"
        assert session.exec(select(AllocationRound)).all() == []


def test_a_job_cancelled_after_its_preview_keeps_the_preview(
    engine: Engine, no_worker: Settings, pooled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled between the stored preview and the commit: the preview stays for HQ to read,
    commit or cancel; nothing was committed."""
    job_id = _start(engine, no_worker)

    original = Reporter.__call__

    def hq_cancels_as_the_commit_begins(
        self: Reporter, phase: str, done: int, total: int | None
    ) -> None:
        if phase == "commit" and self.phase != "commit":
            cancel_job(engine, job_id=job_id)
        original(self, phase, done, total)

    monkeypatch.setattr(Reporter, "__call__", hq_cancels_as_the_commit_begins)
    execute(engine, no_worker, job_id)
    with session_scope(engine) as session:
        job = read_job(session, job_id=job_id)
        rounds = session.exec(select(AllocationRound)).all()
    assert job.status == "cancelled"
    assert [(r.id, r.status) for r in rounds] == [(job.result["round_id"], "solved")]
