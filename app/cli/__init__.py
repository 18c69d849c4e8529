"""The `o2o` command: one module per command group, each command one job (app/cli/jobs.py)."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from app.cli import allocate as offline
from app.cli.audit import audit_cli
from app.cli.channels import channels_cli
from app.cli.db import db_cli
from app.cli.followup import followup_cli, lead_cli
from app.cli.imports import import_cli
from app.cli.ledger import import_revenue_cmd, ledger_cli
from app.cli.notify import notify_cli
from app.cli.privacy import privacy_cli
from app.cli.queue import jobs_cli, worker
from app.cli.rounds import round_cli
from app.cli.routing import routing_cli
from app.cli.serving import demo, serve
from app.cli.users import users_cli
from app.clock import install_start
from app.config import get_settings

cli = typer.Typer(help="O2O lead allocation and commission ledger.", no_args_is_help=True)
for group, name in ((db_cli, "db"), (import_cli, "import"), (users_cli, "users"),
                    (round_cli, "round"), (lead_cli, "lead"), (followup_cli, "followup"),
                    (channels_cli, "channels"), (ledger_cli, "ledger"), (audit_cli, "audit"),
                    (privacy_cli, "privacy"), (notify_cli, "notify"),
                    (routing_cli, "routing"), (jobs_cli, "jobs")):  # fmt: skip
    cli.add_typer(group, name=name)
cli.command("allocate")(offline.allocate)  # the offline solver: CSV in, CSV + JSON out, no database
import_cli.command("revenue")(import_revenue_cmd)
cli.command("demo")(demo)
cli.command("serve")(serve)
cli.command("worker")(worker)


def main() -> None:
    """Entry point: bad settings are an operator error (exit 2), not a traceback."""
    try:
        install_start(get_settings().clock_start)
    except ValidationError as exc:
        for error in exc.errors():
            field = "O2O_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
            typer.echo(f"error: {field}: {error['msg']}", err=True)
        raise SystemExit(2) from None
    cli()
