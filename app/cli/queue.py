"""`o2o worker` (runs jobs) and `o2o jobs list|show|cancel`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.jobs import refusals_exit, run_job
from app.config import get_settings
from app.db import make_engine

if TYPE_CHECKING:
    from app.jobs.schemas import JobRead

jobs_cli = typer.Typer(help="Jobs: long work run by a worker (rounds).", no_args_is_help=True)


def worker(
    threads: Annotated[int, typer.Option(min=1, max=16, help="Jobs run at once.")] = 1,
) -> None:
    """Run queued jobs until stopped (Ctrl-C: after the running job ends; see docs/jobs.md)."""
    from app.jobs.queue import queue_for

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    queue = queue_for(get_settings())
    queue.recover()  # jobs left behind by a worker that died, and jobs never sent
    queue.consumer(workers=threads).run()


@jobs_cli.command("list")
def jobs_list(limit: Annotated[int, typer.Option(min=1, max=100)] = 20) -> None:
    """The latest jobs, newest first."""
    from app.jobs.service import list_jobs

    for job in run_job(lambda s: list_jobs(s, limit=limit, offset=0)).items:
        typer.echo(job_line(job))


@jobs_cli.command("show")
def jobs_show(job_id: int) -> None:
    """One job: phase, progress, elapsed time, result or error."""
    from app.jobs.service import read_job

    job = run_job(lambda s: read_job(s, job_id=job_id))
    typer.echo(job_line(job))
    if job.result:
        typer.echo(f"  result: {job.result}")
    if job.error:
        typer.echo(f"  error: {job.error}")


@jobs_cli.command("cancel")
def jobs_cancel(job_id: int) -> None:
    """Cancel a queued job, or stop a running one before its next phase (never mid-commit)."""
    from app.jobs.service import cancel_job

    with refusals_exit():
        cancel_job(make_engine(get_settings()), job_id=job_id)
    typer.echo(f"job {job_id}: cancel requested")


def job_line(job: JobRead) -> str:
    phase = f"{job.phase} ({job.step}/{job.steps})" if job.phase else "not started"
    elapsed = "" if job.elapsed_seconds is None else f", {job.elapsed_seconds:.0f} s"
    return (
        f"job {job.id}: {job.kind} {job.status}, {phase}, {job.percent:.0f}%{elapsed}, "
        f"by {job.requested_by}"
    )
