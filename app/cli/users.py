"""`o2o users create|deactivate|move|unlock`: staff accounts."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from app.cli.jobs import cli_actor, run_job

users_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="hq, branch, finance or auditor")],
    branch: Annotated[str | None, typer.Option(help="Branch code (branch users only).")] = None,
) -> None:
    """Create a user; the password is read from standard input."""
    from app.users.service import create_user

    password = _read_password()
    user = run_job(lambda s: create_user(s, username=username, password=password, role=role,
                                         branch_code=branch, actor=cli_actor()))  # fmt: skip
    typer.echo(f"created user '{user.username}' ({user.role})")


@users_cli.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate a user; their tokens stop working at once."""
    from app.users.service import deactivate_user

    run_job(lambda s: deactivate_user(s, username=username, actor=cli_actor()))
    typer.echo(f"deactivated '{username}'")


@users_cli.command("move")
def users_move(username: str, branch: Annotated[str, typer.Option()]) -> None:
    """Move a branch user to another branch; old tokens stop working at once."""
    from app.users.service import move_user

    run_job(lambda s: move_user(s, username=username, branch_code=branch, actor=cli_actor()))
    typer.echo(f"moved '{username}' to branch {branch}")


@users_cli.command("unlock")
def users_unlock(username: Annotated[str, typer.Option()]) -> None:
    """Lift a sign-in lockout of an account from every address (audited as auth.unlocked)."""
    from app.users.login import unlock

    run_job(lambda s: unlock(s, username=username, actor=cli_actor()))
    typer.echo(f"unlocked sign-in for '{username}'")


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")
