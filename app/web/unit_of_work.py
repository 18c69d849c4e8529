"""A form's change as one unit of work: done, redirect; refused, the page again with why."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.db import session_scope
from app.errors import AppError

T = TypeVar("T")


def change(
    request: Request,
    action: Callable[[Session], T],
    *,
    done: Callable[[T], str],
    refused: Callable[[AppError], Response],
) -> Response:
    """Run `action` in one transaction. Done: 303 to the address `done` makes of its result
    (post/redirect/get, so a reload never sends the form twice). Refused (an AppError, rolled
    back whole): what `refused` renders, typically the page again with the typed values."""
    try:
        with session_scope(request.app.state.engine) as session:
            result = action(session)
    except AppError as error:
        return refused(error)
    return RedirectResponse(done(result), status_code=303)
