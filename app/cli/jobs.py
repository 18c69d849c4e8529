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
from app.progress import fraction

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


class PhaseProgress:
    """A long command's phases on stderr, the same `progress(phase, done, total)` a job reports:
    percent and ETA on one line rewritten in place (a terminal), or a line per phase."""

    def __init__(self, label: str, phases: tuple[str, ...]) -> None:
        self.label, self.phases = label, phases
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.phase: str | None = None

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase == self.phase and not self.tty:
            return
        self.phase = phase
        step = self.phases.index(phase) + 1
        share = fraction(step=step, steps=len(self.phases), done=done, total=total)
        elapsed = time.monotonic() - self.started
        eta = f", ETA {elapsed * (1 - share) / share:.0f} s" if share > 0 else ""
        counted = f" {done:,}/{total:,}" if total else (f" #{done}" if done else "")
        line = (
            f"{self.label}: {phase}{counted} ({step}/{len(self.phases)}) "
            f"{100 * share:.0f}%, {elapsed:.0f} s{eta}"
        )
        typer.echo(("\r" + line + "\033[K") if self.tty else line, err=True, nl=not self.tty)

    def done(self) -> None:
        if self.tty and self.phase is not None:
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
