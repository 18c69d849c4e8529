"""`o2o db upgrade`."""

from __future__ import annotations

import typer

from app.config import get_settings
from app.db import make_engine

db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (alembic upgrade)."""
    from app.migrations import upgrade

    engine = make_engine(get_settings())
    upgrade(engine, revision)
    typer.echo(f"database at {revision}")
