"""An uploaded import file, saved to a temporary folder within the upload limit."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

from fastapi import UploadFile

from app.errors import AppError
from coded_messages import message

BLOCK_BYTES = 1 << 20
MAX_NAME_CHARS = 200


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


def upload_name(upload: UploadFile, *, default: str) -> str:
    """The file's own name, without any folder a browser sent (Windows or POSIX)."""
    name = PureWindowsPath(upload.filename or "").name.strip()
    return (name or default)[-MAX_NAME_CHARS:]


def save_upload(upload: UploadFile, target: Path, *, limit: int) -> Path:
    """Copy the upload to `target`, refusing it once it passes `limit` bytes."""
    size = 0
    with target.open("wb") as out:
        while block := upload.file.read(BLOCK_BYTES):
            size += len(block)
            if size > limit:
                raise PayloadTooLarge(message("upload.too_large", limit=limit))
            out.write(block)
    return target
