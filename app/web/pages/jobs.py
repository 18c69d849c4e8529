"""A job as HQ watches it: phase, progress, elapsed time, what went wrong, in Chinese."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.imports.job import LEAD_IMPORT_JOB, ImportOutcome, kept_outcome
from app.jobs.messages_json import message_from_plain
from app.jobs.schemas import JobRead
from app.jobs.service import read_job
from app.web.labels import JOB_KINDS, job_phase_label
from app.web.messages import in_chinese


@dataclass(frozen=True, slots=True)
class JobPage:
    job: JobRead
    kind: str
    phase: str
    elapsed: str
    eta: str
    error: str | None
    round_id: int | None
    active: bool
    leads_to: str | None  # where a finished job's work is seen (the round page)
    imported: ImportOutcome | None  # a finished lead import: its report or its bad rows


def job_page(session: Session, *, job_id: int) -> JobPage:
    job = read_job(session, job_id=job_id)
    error = message_from_plain(job.error_code, job.error_params or {}) if job.error_code else None
    round_id = job.result.get("round_id") or None
    done = "committed" if job.phase == "commit" else "previewed"
    finished = job.status == "succeeded" and round_id is not None
    return JobPage(
        job=job, kind=JOB_KINDS.get(job.kind, job.kind), phase=_phase(job),
        elapsed=duration(job.elapsed_seconds), eta=duration(job.eta_seconds),
        error=in_chinese(error) if error else None,
        round_id=int(round_id) if round_id else None,
        active=job.status in ("queued", "running"),
        leads_to=f"/hq/rounds/{round_id}?done={done}" if finished else None,
        imported=kept_outcome(job.result) if job.kind == LEAD_IMPORT_JOB.name else None,
    )  # fmt: skip


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _phase(job: JobRead) -> str:
    if job.phase is None:
        return "等待开始" if job.status == "queued" else "未开始"
    counted = f"（{job.done:,} / {job.total:,}）" if job.total else ""
    if job.phase == "solve" and job.done:
        counted = f"（第 {job.done} 次定价迭代）"
    return f"第 {job.step} / {job.steps} 步：{job_phase_label(job.phase)}{counted}"
