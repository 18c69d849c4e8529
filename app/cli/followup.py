"""`o2o followup run` (for cron) and `o2o lead transfer` (HQ): follow-up outside the pages."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from app.cli.jobs import cli_actor, run_job
from app.config import get_settings

followup_cli = typer.Typer(help="Follow-up deadlines (for cron).", no_args_is_help=True)
lead_cli = typer.Typer(help="Headquarters actions on single leads.", no_args_is_help=True)


@followup_cli.command("run")
def followup_run() -> None:
    """Reclaim every customer whose follow-up deadline passed, and warn branches of leads near
    theirs (O2O_DEADLINE_WARNING_HOURS); run it hourly from cron."""
    from app.notifications.approaching import warn_approaching
    from app.ownership.reclaim import reclaim_lapsed
    from app.tables.base import utcnow

    def run(session: Session) -> tuple[int, int]:
        settings, now = get_settings(), utcnow()
        reclaimed = reclaim_lapsed(session, settings=settings, actor=cli_actor(), now=now)
        return reclaimed, warn_approaching(session, settings=settings, now=now)

    reclaimed, warned = run_job(run)
    typer.echo(f"reclaimed {reclaimed} customer(s) past the follow-up deadline")
    typer.echo(f"warned branches of {warned} lead(s) near the follow-up deadline")


@lead_cli.command("transfer")
def lead_transfer(
    lead_id: int,
    branch: Annotated[str, typer.Option(help="Code of the receiving branch.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")],
    override: Annotated[
        bool,
        typer.Option(
            "--override",
            help="Transfer even to a full branch or one that does not serve the customer's "
            "tier (audited as an override).",
        ),
    ] = False,
) -> None:
    """Move a lead's customer (all its leads) and its ownership to another branch (HQ, audited).

    Refused when the branch is full or does not serve the customer's tier, unless --override.
    """
    from app.auth import Principal
    from app.leads.followup import transfer_lead

    operator = Principal(
        user_id=0, username=cli_actor(), role="hq", branch_id=None, branch_code=None
    )
    run_job(
        lambda s: transfer_lead(
            s,
            principal=operator,
            lead_id=lead_id,
            branch_code=branch,
            reason=reason,
            override=override,
        )
    )
    typer.echo(f"lead {lead_id} transferred to {branch}")
