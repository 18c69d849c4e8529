"""Imports of an uploaded file, for the API and the pages: the CLI's importers, same audit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import UploadFile
from sqlmodel import Session

from app.branches.importer import import_branches
from app.config import Settings
from app.imports.encoding import parse_encoding
from app.imports.report import ImportReport
from app.imports.source import Reading, parse_format
from app.imports.uploads import save_upload, upload_name
from app.leads.importer import import_leads


def reading_of(encoding: str, file_format: str) -> Reading:
    return Reading(encoding=parse_encoding(encoding), file_format=parse_format(file_format))


def import_uploaded_leads(
    session: Session, *, upload: UploadFile, actor: str, settings: Settings,
    channel: str | None, reading: Reading,
) -> ImportReport:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="o2o-leads-") as folder:
        path = save_upload(upload, Path(folder) / "upload", limit=settings.max_upload_bytes)
        return import_leads(
            session, path=path, actor=actor, secret=settings.customer_key, channel=channel,
            batch_rows=settings.import_batch_rows, reading=reading,
            file_name=upload_name(upload, default="leads.csv"),
        )  # fmt: skip


def import_uploaded_branches(
    session: Session, *, upload: UploadFile, actor: str, settings: Settings, reading: Reading
) -> ImportReport:
    with tempfile.TemporaryDirectory(prefix="o2o-branches-") as folder:
        path = save_upload(upload, Path(folder) / "upload", limit=settings.max_upload_bytes)
        return import_branches(
            session, path=path, actor=actor, reading=reading,
            file_name=upload_name(upload, default="branches.csv"),
        )  # fmt: skip
