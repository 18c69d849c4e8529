"""What every `o2o` command shares: one job is one session, committed once or rolled back, and
an expected refusal (`AppError`) ends the command with its message and exit code 2."""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlmodel import Session

from app.config import get_settings
from app.db import make_engine, session_scope
from app.errors import AppError, FileRejected

T = TypeVar("T")
ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def fail(message: str, *, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def report_rejection(exc: FileRejected) -> typer.Exit:
    for error in exc.errors:
        typer.echo(str(error), err=True)
    hidden = exc.total_errors - len(exc.errors)
    if hidden > 0:
        typer.echo(f"... and {hidden} more bad row(s)", err=True)
    return fail(exc.message, code=2)


class ProgressPrinter:
    """Rows done and rate on stderr, rewritten in place on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, rows: int) -> None:
        rate = rows / max(time.perf_counter() - self.started, 1e-9)
        line = f"{self.label}: {rows:,} rows ({rate:,.0f} rows/s)"
        typer.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)

    def done(self) -> None:
        if self.tty:
            typer.echo("", err=True)


@contextmanager
def refusals_exit() -> Iterator[None]:
    """A refused file lists its bad rows; any other refusal prints its message; both exit 2."""
    try:
        yield
    except FileRejected as exc:
        raise report_rejection(exc) from None
    except AppError as exc:
        raise fail(exc.message, code=2) from None


def run_job(action: Callable[[Session], T]) -> T:
    """Run `action` in one session on the configured database; its result, or exit 2."""
    with refusals_exit(), session_scope(make_engine(get_settings())) as session:
        return action(session)
