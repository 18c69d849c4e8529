"""A lead import as a job (`POST /api/v1/imports/leads?async=true`).

The upload is kept in the job-files folder until the import ends, so a worker that dies midway
leaves it for the rerun (the import is one transaction: it happened whole or not at all). Workers
on other hosts need that folder on shared storage (docs/jobs.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from sqlalchemy.engine import Engine, make_url

from app.config import Settings
from app.db import session_scope
from app.errors import FileRejected, RowError
from app.imports.report import ImportReport
from app.imports.service import reading_of
from app.imports.uploads import save_upload, upload_name
from app.jobs.messages_json import message_from_plain, params_to_json
from app.jobs.service import start_job
from app.jobs.work import JobKind, Work
from app.leads.importer import import_leads

KEPT_ERRORS = 200  # bad rows a failed import job keeps (all are counted)


def start_lead_import_job(
    engine: Engine, *, settings: Settings, upload: UploadFile, actor: str,
    channel: str | None, encoding: str, file_format: str,
) -> int:  # fmt: skip
    reading_of(encoding, file_format)  # a bad choice is refused now, not in the worker
    folder = job_files(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = save_upload(upload, folder / f"{uuid.uuid4().hex}.upload",
                       limit=settings.max_upload_bytes)  # fmt: skip
    params = {"path": str(path), "file_name": upload_name(upload, default="leads.csv"),
              "channel": channel, "encoding": encoding, "format": file_format}  # fmt: skip
    return start_job(engine, settings=settings, kind=LEAD_IMPORT_JOB, params=params, actor=actor)


def is_big(upload: UploadFile, settings: Settings) -> bool:
    """An upload the import page hands to a job (O2O_IMPORT_JOB_MIN_BYTES) rather than
    importing it while the browser waits."""
    return upload.size is not None and upload.size >= settings.import_job_min_bytes


def job_files(settings: Settings) -> Path:
    """Where uploads wait for their job: O2O_JOB_FILES_PATH, else beside a SQLite database."""
    if settings.job_files_path:
        return Path(settings.job_files_path)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).with_name(Path(url.database).name + ".job-files")
    return Path("o2o-job-files")


def _run(work: Work) -> None:
    params, settings = work.params, work.settings
    path = Path(params["path"])
    work.progress("import", 0, None)
    try:
        with session_scope(work.engine) as session:
            report = import_leads(
                session, path=path, actor=work.requested_by, secret=settings.customer_key,
                channel=params["channel"], batch_rows=settings.import_batch_rows,
                reading=reading_of(params["encoding"], params["format"]),
                file_name=params["file_name"],
                progress=lambda rows: work.progress("import", rows, None),
            )  # fmt: skip
        work.remember("report", report.as_dict())
    except FileRejected as exc:
        work.remember("errors", [_error_json(error) for error in exc.errors[:KEPT_ERRORS]])
        work.remember("total_errors", exc.total_errors)
        work.remember("file", exc.file)
        raise
    finally:  # whatever the outcome; a killed worker never gets here and leaves it for the rerun
        path.unlink(missing_ok=True)


def _error_json(error: RowError) -> dict[str, Any]:
    """A bad row as the API gives it, with its message code for the pages' Chinese."""
    said = error.said
    return {
        "file": error.file, "line": error.line, "column": error.column, "reason": error.reason,
        "code": said.code if said else None,
        "params": json.loads(params_to_json(said)) if said else None,
    }  # fmt: skip


def kept_outcome(result: Mapping[str, Any]) -> ImportOutcome:
    """What a finished import job kept, as the import page shows it."""
    report = result.get("report")
    errors = [
        RowError(e["file"], e["line"], e["column"], e["reason"],
                 message_from_plain(e["code"], e["params"] or {}) if e["code"] else None)
        for e in result.get("errors", [])
    ]  # fmt: skip
    rejected = (
        Rejected(file=result["file"], total_errors=result["total_errors"]) if errors else None
    )
    return ImportOutcome(report=_report(report) if report else None, rejected=rejected,
                         errors=errors)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rejected:
    file: str
    total_errors: int


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    report: ImportReport | None
    rejected: Rejected | None
    errors: list[RowError]


def _report(data: Mapping[str, Any]) -> ImportReport:
    return ImportReport(
        file=data["file"], rows=data["rows"], inserted=data["inserted"],
        updated=data["updated"], unchanged=data["unchanged"], seconds=data["seconds"],
        linked=data["linked"], repooled=data["repooled"], file_format=data["format"],
        encoding=data["encoding"], sheet=data["sheet"],
    )  # fmt: skip


def _phases(_params: Any) -> tuple[str, ...]:
    return ("import",)


LEAD_IMPORT_JOB = JobKind(name="import.leads", lane=None, phases=_phases, run=_run)
