"""Typed application errors and their one mapping to HTTP responses."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class AppError(Exception):
    """Base of every expected error; `status` is what the API answers."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "not_authenticated"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"


class InvalidInput(AppError):
    status = 422
    code = "invalid_input"


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell (or row) of an input file, located the way an operator can find it."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: column '{self.column}': {self.reason}"


class FileRejected(AppError):
    """An import file had bad rows; nothing was written."""

    status = 422
    code = "file_rejected"

    def __init__(self, *, file: str, errors: list[RowError], total_errors: int) -> None:
        super().__init__(f"{file}: {total_errors} bad row(s); nothing was written")
        self.file = file
        self.errors = errors
        self.total_errors = total_errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "detail": exc.message}
        if isinstance(exc, FileRejected):
            body["errors"] = [asdict(e) for e in exc.errors]
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(status_code=exc.status, content=body, headers=headers)
