"""Typed application errors and their one mapping to HTTP responses."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import Response

from app.messages import in_english
from coded_messages import Message, message


class AppError(Exception):
    """Base of every expected error; `status` is what the API answers, `code` its kind.

    Made with a `Message` (a code and its values: what the pages can say in Chinese) or, for
    what only the API and the CLI say, plain English. `message` is the English either way.
    """

    status = 400
    code = "bad_request"

    def __init__(self, message: str | Message) -> None:
        self.coded = message if isinstance(message, Message) else None
        self.message = message if isinstance(message, str) else in_english(message)
        super().__init__(self.message)


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class StalePreview(Conflict):
    """A round's preview no longer matches the pool or the branches: it can never commit."""

    code = "stale_preview"

    def __init__(self, why: Message) -> None:
        super().__init__(why)
        self.why = why  # what changed since the solve, which the cancellation quotes


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "not_authenticated"


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str | Message, *, retry_after_seconds: int = 60) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidInput(AppError):
    status = 422
    code = "invalid_input"


class DatabaseBusy(AppError):
    """Another transaction held what this one needed; everything was rolled back."""

    status = 503
    code = "database_busy"
    retry_after_seconds = 1


# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available. SQLite says
# "database is locked" (or "database table is locked") once its busy timeout runs out.
CONTENTION_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def as_contention(exc: OperationalError) -> DatabaseBusy | None:
    """The busy error a lost race becomes, or None for any other database failure."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig).lower()
    sqlite_locked = text.startswith("database") and "is locked" in text
    if sqlstate in CONTENTION_SQLSTATES or sqlite_locked:
        return DatabaseBusy(message("server.database_busy"))
    return None


def out_of_range() -> InvalidInput:
    return InvalidInput(message("server.out_of_range"))


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad cell (or row) of an input file, located the way an operator can find it.

    `reason` is the English the API and the CLI give; `said` the same as a code and values
    (None for reasons only the API and the CLI give), which the pages say in Chinese.
    """

    file: str
    line: int
    column: str
    reason: str
    said: Message | None = field(default=None, compare=False)

    @classmethod
    def of(cls, file: str, line: int, column: str, reason: str | Message) -> RowError:
        if isinstance(reason, str):
            return cls(file, line, column, reason)
        return cls(file, line, column, in_english(reason), reason)

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


class RowErrorBody(BaseModel):
    file: str
    line: int
    column: str
    reason: str


class ErrorBody(BaseModel):
    """Every error answer of the API: a code, a message (for a 422 of the request's shape,
    the list of what failed validation) and, for a rejected file, its first bad rows."""

    error: str
    detail: str | list[dict[str, Any]]
    errors: list[RowErrorBody] | None = None


_ERROR_MEANINGS = {
    401: "Not signed in, or the token is invalid or expired",
    403: "Your role may not do this",
    404: "Not found, or not yours",
    409: "Conflicts with the current state; reload and retry",
    422: "Invalid input (the request's shape, a value, or a file's rows)",
    429: "Too many attempts; retry later",
    503: "The database was busy; nothing was written; retry after Retry-After seconds",
}
# Declared once, on every API router, so the OpenAPI schema lists the errors operations give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": meaning}
    for status, meaning in _ERROR_MEANINGS.items()
}


def json_safe(value: Any) -> Any:
    """`value` with what strict JSON in UTF-8 cannot carry made printable: a non-finite float
    (`NaN`, `Infinity`, `1e309` parse in Python's json) becomes its text, a string with a lone
    surrogate (`"\\ud800"` parses too) gets it backslash-escaped. Error bodies echo the input,
    so they pass through here and never fail to encode."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {json_safe(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "detail": exc.message}
        if isinstance(exc, FileRejected):
            body["errors"] = [
                {"file": e.file, "line": e.line, "column": e.column, "reason": e.reason}
                for e in exc.errors
            ]
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else {}
        if isinstance(exc, TooManyRequests | DatabaseBusy):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return JSONResponse(status_code=exc.status, content=json_safe(body), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422 body (`detail`: the list of errors, echoing the input), made safe."""
        errors = json_safe(jsonable_encoder(exc.errors()))
        return JSONResponse(
            status_code=422, content={"error": "validation_error", "detail": errors}
        )

    @app.exception_handler(OperationalError)
    async def _contention(request: Request, exc: OperationalError) -> Response:
        """A lost race answers 503 with Retry-After (a page or JSON, as for any AppError)."""
        busy = as_contention(exc)
        if busy is None:
            raise exc
        handler = request.app.exception_handlers[AppError]
        response: Response = await handler(request, busy)
        response.headers["Retry-After"] = str(busy.retry_after_seconds)
        return response

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(request: Request, _exc: PoolTimeout) -> Response:
        """Every connection is in use (a burst): 503 with Retry-After, not 500."""
        handler = request.app.exception_handlers[AppError]
        busy = DatabaseBusy(message("server.busy"))
        response: Response = await handler(request, busy)
        response.headers["Retry-After"] = str(busy.retry_after_seconds)
        return response

    # Input the schema let through but the database cannot hold: an id beyond 64 bits
    # (SQLite's driver raises OverflowError), a PostgreSQL data exception (SQLSTATE class 22).
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        handler = request.app.exception_handlers[AppError]
        response: Response = await handler(request, out_of_range())
        return response
