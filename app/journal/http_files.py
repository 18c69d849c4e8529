"""The ledger's files over HTTP: a revenue or policy upload in, an export download out.

The API (app/journal/routes.py) and the finance pages (app/web/routes/finance.py) both call
these, so neither route calls the other and the two surfaces cannot drift apart.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import FileResponse
from sqlmodel import Session
from starlette.background import BackgroundTask

from app.config import Settings
from app.imports.uploads import save_upload, upload_name
from app.journal import service
from app.journal.schemas import PolicyList, RevenueImportRead

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def import_uploaded_revenue(
    session: Session, *, upload: UploadFile, actor: str, settings: Settings
) -> RevenueImportRead:
    """Save the upload within the limit (413 past it), then import it as one batch."""
    with tempfile.TemporaryDirectory(prefix="o2o-revenue-") as folder:
        path = save_upload(upload, Path(folder) / "upload.csv", limit=settings.max_upload_bytes)
        return service.import_revenue(
            session, path=path, actor=actor, file_name=upload_name(upload, default="upload.csv"),
            batch_rows=settings.import_batch_rows,
        )  # fmt: skip


# A policy file holds a few versions: read whole, so kept small whatever the upload limit.
POLICY_FILE_MAX_BYTES = 1024 * 1024


def add_uploaded_policies(session: Session, *, upload: UploadFile, actor: str) -> PolicyList:
    """Save a JSON or CSV policy file (its suffix says which) and store all its versions or
    none (FileRejected names each bad field)."""
    name = upload_name(upload, default="policies.csv")
    suffix = Path(name).suffix.lower()[:8]
    with tempfile.TemporaryDirectory(prefix="o2o-policies-") as folder:
        path = save_upload(upload, Path(folder) / f"upload{suffix}", limit=POLICY_FILE_MAX_BYTES)
        return service.add_policy_file(session, path=path, actor=actor, file_name=name)


def export_download(
    session: Session, *, period: str, fmt: str, layout: str, actor: str, settings: Settings
) -> FileResponse:
    """Build the export whole in a temporary folder (refused past `O2O_MAX_EXPORT_ROWS`), send
    it with its hash and row count, and remove the folder once it is sent."""
    folder = tempfile.mkdtemp(prefix="o2o-export-")
    suffix = "" if layout == "canonical" else f"-{layout}"
    out = Path(folder) / f"ledger-{period}{suffix}.{fmt}"
    try:
        result = service.export_period(
            session, period=period, fmt=fmt, out=out, actor=actor, layout=layout,
            max_rows=settings.max_export_rows,
        )  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        out, media_type=MEDIA[fmt], filename=out.name,
        headers={"X-Content-SHA256": result.sha256, "X-Row-Count": str(result.rows)},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )  # fmt: skip
