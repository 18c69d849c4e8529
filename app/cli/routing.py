"""`o2o routing on|off|status`: HQ's switch for routing new leads between rounds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from app.cli.jobs import cli_actor, run_job

if TYPE_CHECKING:
    from app.routing.switch import RoutingState

routing_cli = typer.Typer(
    help="Routing of new leads between rounds, at the last round's prices (HQ).",
    no_args_is_help=True,
)


@routing_cli.command("on")
def routing_on() -> None:
    """New leads from channels are assigned at once (audited)."""
    _switch(enabled=True)


@routing_cli.command("off")
def routing_off() -> None:
    """New leads wait for the next round (audited)."""
    _switch(enabled=False)


@routing_cli.command("status")
def routing_status() -> None:
    from app.routing.switch import routing_state

    states: list[RoutingState] = []
    run_job(lambda s: states.append(routing_state(s)))
    _echo(states[0])


def _switch(*, enabled: bool) -> None:
    from app.routing.switch import switch_routing

    states: list[RoutingState] = []
    run_job(lambda s: states.append(switch_routing(s, enabled=enabled, actor=cli_actor())))
    _echo(states[0])


def _echo(state: RoutingState) -> None:
    since = f" (since {state.changed_at} by {state.changed_by})" if state.changed_at else ""
    typer.echo(f"routing {'on' if state.enabled else 'off'}{since}")


@routing_cli.command("check-floors")
def routing_check_floors() -> None:
    """Recount every branch load routing keeps from the leads; exit 1 if a kept count says
    more than they allow (a floor above the load, or an exact count that is not the load)."""
    from app.ownership.load_floor import misstated_counts

    found: list[dict[int, tuple[str, int, int]]] = []
    run_job(lambda s: found.append(misstated_counts(s)))
    for branch_id, (claim, stored, load) in sorted(found[0].items()):
        relation = ">" if claim == "floor" else "!="
        typer.echo(f"branch {branch_id}: {claim} {stored} {relation} load {load}", err=True)
    if found[0]:
        raise typer.Exit(code=1)
    typer.echo("branch floors hold")
