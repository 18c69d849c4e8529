"""`o2o demo` and `o2o serve`."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from app.cli.rounds import round_summary
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.privacy.cipher import data_key_problem


def demo(
    leads: Annotated[int, typer.Option(min=100, max=2_000_000)] = 30_000,
    branches: Annotated[int, typer.Option(min=2, max=5_000)] = 360,
) -> None:
    """Load the demo data set (branches, leads, users) and print the logins."""
    from app.demo import load_demo

    settings = get_settings()
    started = time.perf_counter()
    engine = make_engine(settings)
    result = load_demo(engine, settings, leads=leads, branches=branches)
    typer.echo(f"demo data loaded in {time.perf_counter() - started:.1f} s")
    with session_scope(engine) as session:
        from app.rounds.queries import read_round

        typer.echo(round_summary(read_round(session, round_id=result.round_id)))
    typer.echo(f"revenue: {result.revenue}")
    typer.echo("logins (username / password / role):")
    for login in result.logins:
        where = f" of {login.branch}" if login.branch else ""
        typer.echo(f"  {login.username:10} {login.password:22} {login.role}{where}")


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Allow the published development key (local demo).")
    ] = False,
) -> None:
    """Serve the web app and API (refuses a published or guessable O2O_SECRET_KEY)."""
    import uvicorn

    settings = get_settings()
    problem = settings.insecure_secret_problem
    if problem is not None:
        if not (demo or settings.demo_mode):
            typer.echo(
                f"error: {problem}.\n"
                "Set O2O_SECRET_KEY to a random value of at least 32 characters, e.g.\n"
                "  export O2O_SECRET_KEY=$(python3 -c "
                "'import secrets; print(secrets.token_urlsafe(48))')\n"
                "or pass --demo (O2O_DEMO_MODE=1) for a local demonstration.",
                err=True,
            )
            raise SystemExit(2)
        typer.echo(f"warning: demo mode: {problem}", err=True)
    _refuse_a_wrong_data_key(settings)
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers)


def _refuse_a_wrong_data_key(settings: Settings) -> None:
    engine = make_engine(settings)
    with session_scope(engine) as session:
        problem = data_key_problem(session)
    engine.dispose()
    if problem is not None:
        typer.echo(f"error: {problem}; nothing was served. Set O2O_DATA_KEY to the key the "
                   "mobile numbers were sealed with.", err=True)  # fmt: skip
        raise SystemExit(2)
