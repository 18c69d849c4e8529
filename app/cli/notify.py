"""`o2o notify run [--once]`: deliver notifications from the outbox to their webhooks."""

from __future__ import annotations

import random
import time
from typing import Annotated

import typer

from app.cli.jobs import refusals_exit
from app.config import get_settings

notify_cli = typer.Typer(help="Notification webhooks (a worker, or cron).", no_args_is_help=True)


@notify_cli.command("run")
def notify_run(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now and exit (for cron).")
    ] = False,
    poll_seconds: Annotated[float, typer.Option(min=0.1, help="Pause between passes.")] = 5.0,
) -> None:
    """Deliver due notifications (signed, retried with backoff, dead after the last attempt)."""
    import httpx

    from app.db import make_engine
    from app.notifications.delivery import deliver_due

    settings = get_settings()
    engine, rng = make_engine(settings), random.SystemRandom()
    with refusals_exit(), httpx.Client() as client:
        while True:
            report = deliver_due(engine, settings=settings, client=client, rng=rng)
            if report.attempts or once:
                outcomes = ", ".join(f"{n} {s}" for s, n in sorted(report.outcomes.items()))
                typer.echo(f"{report.attempts} attempt(s): {outcomes or 'nothing due'}")
            if once:
                return
            time.sleep(poll_seconds)  # the worker's idle wait; the outbox keeps what is due
