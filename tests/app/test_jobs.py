"""Jobs on real workers: a huey consumer (SQLite-file or Redis queue) runs a round through its
phases; a worker killed mid-solve or mid-commit is recovered and the round finishes once; one
round job at a time; cancelling where it is safe."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import UploadFile
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.clock import frozen_at
from app.config import Settings
from app.db import session_scope
from app.imports.job import job_files, start_lead_import_job
from app.jobs import recovery
from app.jobs.queue import close_queue, queue_for
from app.rounds.job import start_round_job
from app.rounds.service import RoundParams
from app.tables import AllocationRound, Job, Lead
from app.tables.base import utcnow
from tests.app.crashing import KILLED, run_o2o
from tests.app.jobs_world import wait_for_job
from tests.app.rounds_world import pooled

__all__ = ["pooled"]  # a fixture
pytestmark = pytest.mark.real_clock  # real workers run the jobs; the tests wait for them
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["database", "redis"])
def queued(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test database's settings with a queue of the parametrised kind (database: a SQLite
    file beside a SQLite database, huey's tables in a PostgreSQL one), no in-process worker
    (each test starts the worker it needs)."""
    if request.param == "redis" and not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    return settings.model_copy(
        update={
            "job_workers_in_process": 0,
            "job_lease_seconds": 3,
            "redis_url": REDIS_URL if request.param == "redis" else None,
        }
    )


@pytest.fixture
def worker(queued: Settings) -> Iterator[Settings]:
    """A real huey consumer (threads in this process) on the test's queue; stopped after."""
    running = queued.model_copy(update={"job_workers_in_process": 1})
    queue_for(running).start_in_process()
    yield running
    close_queue(running)


def _round(engine: Engine, settings: Settings, *, commit: bool) -> int:
    return start_round_job(
        engine, settings=settings, actor="hq1", params=RoundParams(), commit=commit
    )


def _rounds(engine: Engine) -> list[AllocationRound]:
    with session_scope(engine) as session:
        return list(session.exec(select(AllocationRound)))


def test_a_round_job_runs_on_a_real_worker_through_its_phases(
    engine: Engine, worker: Settings, pooled: dict[str, int]
) -> None:
    job_id = _round(engine, worker, commit=True)
    job = wait_for_job(engine, job_id)
    assert (job.status, job.phase, job.step, job.steps, job.percent) == (
        "succeeded", "commit", 4, 4, 100.0,
    )  # fmt: skip
    assert job.attempts == 1
    assert [(r.id, r.status) for r in _rounds(engine)] == [(job.result["round_id"], "committed")]


def test_a_worker_killed_mid_solve_is_recovered_and_the_round_is_solved_once(
    engine: Engine, queued: Settings, pooled: dict[str, int]
) -> None:
    job_id = _round(engine, queued, commit=False)
    killed = run_o2o(queued, "worker", crash_at="job.solve")
    assert killed.returncode == KILLED, killed.stderr
    job = wait_for_job(engine, job_id, until=("running",), timeout=0)
    assert (job.status, job.phase, _rounds(engine)) == ("running", "pool", [])
    _resume_after_the_lease(engine, queued, job_id)
    job = wait_for_job(engine, job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    assert [r.status for r in _rounds(engine)] == ["solved"]


def test_a_worker_killed_mid_commit_resumes_at_the_commit_of_the_same_preview(
    engine: Engine, queued: Settings, pooled: dict[str, int]
) -> None:
    job_id = _round(engine, queued, commit=True)
    killed = run_o2o(queued, "worker", crash_at="round.commit.after_assign")
    assert killed.returncode == KILLED, killed.stderr
    [preview] = _rounds(engine)
    assert preview.status == "solved"  # the commit is one transaction: it did not happen
    with session_scope(engine) as session:
        assert set(session.exec(select(Lead.status))) == {"new"}
    _resume_after_the_lease(engine, queued, job_id)
    job = wait_for_job(engine, job_id)
    assert (job.status, job.attempts, job.result["round_id"]) == ("succeeded", 2, preview.id)
    assert [(r.id, r.status) for r in _rounds(engine)] == [(preview.id, "committed")]


def _resume_after_the_lease(engine: Engine, settings: Settings, job_id: int) -> None:
    """Once the dead worker's lease has run out, the recovery sweep queues the job again and
    a new worker takes it."""
    with frozen_at(utcnow() + timedelta(seconds=settings.job_lease_seconds + 1)):
        assert recovery.recover(engine) == [job_id]
    running = settings.model_copy(update={"job_workers_in_process": 1})
    try:
        queue_for(running).start_in_process()
        wait_for_job(engine, job_id)
    finally:
        close_queue(running)


def test_a_job_that_keeps_killing_its_workers_fails_for_good(
    engine: Engine, queued: Settings, pooled: dict[str, int]
) -> None:
    job_id = _round(engine, queued, commit=False)
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.status, job.attempts, job.worker = "running", recovery.MAX_ATTEMPTS, "gone:1:x"
        job.lease_until = utcnow() - timedelta(seconds=1)
        session.add(job)
    assert recovery.recover(engine) == []
    failed = wait_for_job(engine, job_id, timeout=0)
    assert (failed.status, failed.error_code) == ("failed", "job.worker_lost")
    assert "stopped 3 time(s)" in (failed.error or "")
    assert _round(engine, queued, commit=False) > job_id  # the failed job no longer holds the lane


def test_a_worker_killed_mid_import_leaves_the_file_and_the_rerun_imports_it_once(
    engine: Engine, queued: Settings, branch_ids: dict[str, int], tmp_path: Path
) -> None:
    content = b"external_id,channel,mobile\nK1,app,13800138000\nK2,app,13912345678\n"
    upload = UploadFile(io.BytesIO(content), filename="k.csv", size=len(content))
    files = queued.model_copy(update={"job_files_path": str(tmp_path / "files")})
    job_id = start_lead_import_job(
        engine, settings=files, upload=upload, actor="hq1", channel="app", encoding="auto",
        file_format="auto",
    )  # fmt: skip
    killed = run_o2o(files, "worker", crash_at="job.import")
    assert killed.returncode == KILLED, killed.stderr
    assert len(list(job_files(files).iterdir())) == 1  # kept for the rerun
    _resume_after_the_lease(engine, files, job_id)
    job = wait_for_job(engine, job_id)
    assert (job.status, job.attempts, job.result["report"]["inserted"]) == ("succeeded", 2, 2)
    with session_scope(engine) as session:
        assert sorted(session.exec(select(Lead.external_id))) == ["K1", "K2"]
    assert list(job_files(files).iterdir()) == []
