"""Every kind of job a worker can run, by the name stored in `job.kind`."""

from __future__ import annotations

from app.imports.job import LEAD_IMPORT_JOB
from app.jobs.work import JobKind
from app.rounds.job import ROUND_JOB

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (ROUND_JOB, LEAD_IMPORT_JOB)}
