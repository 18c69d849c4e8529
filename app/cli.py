"""The `o2o` command. Each command is one job: one session, committed once or rolled back."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.config import get_settings
from app.db import make_engine, session_scope
from app.errors import AppError, FileRejected

cli = typer.Typer(help="O2O lead allocation and commission ledger.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
import_cli = typer.Typer(help="Load branches and leads from CSV files.", no_args_is_help=True)
users_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(import_cli, name="import")
cli.add_typer(users_cli, name="users")

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


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (alembic upgrade)."""
    from app.migrations import upgrade

    engine = make_engine(get_settings())
    upgrade(engine, revision)
    typer.echo(f"database at {revision}")


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


@import_cli.command("branches")
def import_branches_cmd(file: ExistingFile) -> None:
    """Upsert branches by code (all-or-nothing)."""
    from app.branches.importer import import_branches

    settings = get_settings()
    try:
        with session_scope(make_engine(settings)) as session:
            report = import_branches(session, path=file, actor=cli_actor())
    except FileRejected as exc:
        raise report_rejection(exc) from None
    typer.echo(report.summary())


@import_cli.command("leads")
def import_leads_cmd(
    file: ExistingFile,
    channel: Annotated[str | None, typer.Option(help="Channel for rows without one.")] = None,
) -> None:
    """Add new leads, idempotent by (channel, external_id), all-or-nothing."""
    from app.leads.importer import import_leads

    settings = get_settings()
    progress = ProgressPrinter(file.name)
    try:
        with session_scope(make_engine(settings)) as session:
            report = import_leads(
                session, path=file, actor=cli_actor(), secret=settings.customer_key,
                channel=channel, batch_rows=settings.import_batch_rows, progress=progress,
            )  # fmt: skip
    except FileRejected as exc:
        progress.done()
        raise report_rejection(exc) from None
    progress.done()
    typer.echo(report.summary())


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="hq, branch, finance or auditor")],
    branch: Annotated[str | None, typer.Option(help="Branch code (branch users only).")] = None,
) -> None:
    """Create a user; the password is read from standard input."""
    from app.users.service import create_user

    password = _read_password()
    try:
        with session_scope(make_engine(get_settings())) as session:
            user = create_user(
                session, username=username, password=password, role=role,
                branch_code=branch, actor=cli_actor(),
            )  # fmt: skip
    except AppError as exc:
        raise fail(exc.message, code=2) from None
    typer.echo(f"created user '{user.username}' ({user.role})")


@users_cli.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate a user; their tokens stop working at once."""
    from app.users.service import deactivate_user

    _user_job(lambda s: deactivate_user(s, username=username, actor=cli_actor()))
    typer.echo(f"deactivated '{username}'")


@users_cli.command("move")
def users_move(username: str, branch: Annotated[str, typer.Option()]) -> None:
    """Move a branch user to another branch; old tokens stop working at once."""
    from app.users.service import move_user

    _user_job(lambda s: move_user(s, username=username, branch_code=branch, actor=cli_actor()))
    typer.echo(f"moved '{username}' to branch {branch}")


def _user_job(action: object) -> None:
    try:
        with session_scope(make_engine(get_settings())) as session:
            action(session)  # type: ignore[operator]
    except AppError as exc:
        raise fail(exc.message, code=2) from None


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


@cli.command("demo")
def demo(
    leads: Annotated[int, typer.Option(min=100, max=2_000_000)] = 30_000,
    branches: Annotated[int, typer.Option(min=2, max=5_000)] = 360,
) -> None:
    """Load the demo data set (branches, leads, users) and print the logins."""
    from app.demo import load_demo

    settings = get_settings()
    started = time.perf_counter()
    logins = load_demo(make_engine(settings), settings, leads=leads, branches=branches)
    typer.echo(f"demo data loaded in {time.perf_counter() - started:.1f} s")
    typer.echo("logins (username / password / role):")
    for login in logins:
        where = f" of {login.branch}" if login.branch else ""
        typer.echo(f"  {login.username:10} {login.password:22} {login.role}{where}")


@cli.command("serve")
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the web app and API."""
    import uvicorn

    from app.main import create_app

    uvicorn.run(create_app(), host=host, port=port)


def main() -> None:
    """Entry point: bad settings are an operator error (exit 2), not a traceback."""
    try:
        get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = "O2O_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise SystemExit(2) from None
    cli()
