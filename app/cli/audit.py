"""`o2o audit seal|verify`: the audit log's hash chain from the terminal (app/audit_chain.py)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from app import audit_chain
from app.config import get_settings
from app.db import make_engine, session_scope

audit_cli = typer.Typer(help="Audit log: seal the hash chain, verify it.", no_args_is_help=True)
_WAIT_FOR_PENDING_S = 5.0


@audit_cli.command("seal")
def seal_cmd() -> None:
    """Link every audit record that can be sealed safely into the hash chain."""
    with session_scope(make_engine(get_settings())) as session:
        result = audit_chain.seal(session)
    typer.echo(
        f"audit seal: {result.sealed} record(s) sealed; head {result.head_id} "
        f"{result.head_hash}; {result.pending} pending"
    )


@audit_cli.command("verify")
def verify_cmd(
    anchor: Annotated[
        str | None, typer.Option(help="ID:HASH of a head printed earlier, kept elsewhere.")
    ] = None,
) -> None:
    """Seal, then recompute the whole chain; exit 1 naming the first bad record."""
    pinned = _parse_anchor(anchor)
    engine = make_engine(get_settings())
    _seal_until_settled(engine)
    with session_scope(engine) as session:
        report = audit_chain.verify(session, anchor=pinned)
    for problem in report.problems:
        typer.echo(f"tampered: {problem}", err=True)
    if report.problems:
        typer.echo(f"audit verify: first bad record: {report.problems[0]}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"audit verify: {report.sealed} sealed record(s) intact, head {report.head_id} "
        f"{report.head_hash}; {report.pending} pending"
    )


def _seal_until_settled(engine: Engine) -> None:
    """Records of transactions still running cannot be sealed yet: wait a little for them."""
    deadline = time.monotonic() + _WAIT_FOR_PENDING_S
    while True:
        with session_scope(engine) as session:
            result = audit_chain.seal(session)
        if result.pending == 0 or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def _parse_anchor(anchor: str | None) -> tuple[int, str] | None:
    if anchor is None:
        return None
    audit_id, _, digest = anchor.partition(":")
    if not audit_id.isdigit() or len(digest) != 64:
        typer.echo("error: --anchor must be ID:HASH (a 64-hex-digit SHA-256)", err=True)
        raise typer.Exit(2)
    return int(audit_id), digest.lower()
