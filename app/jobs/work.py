"""What a kind of job is, and what its code is handed when a worker runs it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from app.config import Settings
from app.progress import Progress


@dataclass(frozen=True)
class Work:
    engine: Engine
    settings: Settings
    job_id: int
    params: Mapping[str, Any]
    result: Mapping[str, Any]  # what an earlier attempt remembered (a job may be restarted)
    requested_by: str
    progress: Progress
    remember: Callable[[str, Any], None]  # keep a value in the job's result at once


@dataclass(frozen=True)
class JobKind:
    name: str
    lane: str | None  # at most one job of a lane queued or running (the database says so)
    phases: Callable[[Mapping[str, Any]], tuple[str, ...]]
    run: Callable[[Work], None]
