"""`o2o round run|whatif|sweep|commit|replay|cancel`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.jobs import PhaseProgress, cli_actor, fail, refusals_exit, run_job
from app.config import get_settings
from app.db import make_engine, session_scope

if TYPE_CHECKING:
    from app.rounds.schemas import RoundRead

round_cli = typer.Typer(help="Allocation rounds.", no_args_is_help=True)


@round_cli.command("run")
def round_run(
    commit: Annotated[bool, typer.Option("--commit", help="Commit the plan at once.")] = False,
    balance_weight: Annotated[float, typer.Option(min=0)] = 0.0,
    max_distance_km: Annotated[float | None, typer.Option(min=0)] = None,
    time_limit: Annotated[float, typer.Option(min=1, help="Solver time limit, seconds.")] = 60.0,
    objective: Annotated[
        str, typer.Option(help="distance|tier_priority|expected_value (issue 15.4)")
    ] = "distance",
    price_per_km_fen: Annotated[
        int, typer.Option(min=1, help="expected_value: fen of expected revenue worth one km")
    ] = 1000,
    reserve_for_arrivals: Annotated[
        str | None,
        typer.Option(
            help="Keep room for arrivals before the next round: 'auto' (the recent "
            "channel intake) or a number of places (issue 16.2)"
        ),
    ] = None,
) -> None:
    """Solve a round over the current pool (a preview unless --commit); progress on stderr."""
    from allocation.value import OBJECTIVES
    from app.rounds.job import PREVIEW_PHASES
    from app.rounds.objective import RoundObjective
    from app.rounds.queries import read_round
    from app.rounds.reserve import parse_reserve
    from app.rounds.service import RoundParams, run_round

    if objective not in OBJECTIVES:
        raise fail(f"--objective must be one of {', '.join(OBJECTIVES)}", code=2)
    try:
        reserve = parse_reserve(reserve_for_arrivals)
    except ValueError as exc:
        raise fail(f"--reserve-for-arrivals: {exc}", code=2) from None
    settings = get_settings()
    engine = make_engine(settings)
    params = RoundParams(
        balance_weight=balance_weight,
        max_distance_km=max_distance_km,
        time_limit_s=time_limit,
        objective=RoundObjective(mode=objective, price_per_km_fen=price_per_km_fen),
        reserve_for_arrivals=reserve,
    )
    progress = PhaseProgress("round", (*PREVIEW_PHASES, "commit") if commit else PREVIEW_PHASES)
    with refusals_exit():
        round_id = run_round(
            engine, settings=settings, actor=cli_actor(), params=params, commit=commit,
            progress=progress,
        )  # fmt: skip
    progress.done()
    with session_scope(engine) as session:
        typer.echo(round_summary(read_round(session, round_id=round_id)))


@round_cli.command("whatif")
def round_whatif(
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario JSON file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full comparison as JSON.")
    ] = False,
) -> None:
    """Solve a scenario on the live pool beside the current plan; nothing is committed."""
    from app.rounds.scenario import parse_scenario
    from app.rounds.whatif import run_whatif, summary_lines

    settings = get_settings()
    engine = make_engine(settings)
    try:
        text = scenario.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"{scenario}: {exc.strerror}", code=2) from None
    with refusals_exit():
        result = run_whatif(
            engine, settings=settings, actor=cli_actor(),
            scenario=parse_scenario(text, source=str(scenario)),
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(summary_lines(result)))


@round_cli.command("sweep")
def round_sweep(
    branches: Annotated[
        str, typer.Option(help="Branch codes, comma-separated (default: every active branch).")
    ] = "",
    max_added: Annotated[int, typer.Option("--max-added", min=1, max=1000)] = 20,
    step: Annotated[int, typer.Option(min=1, max=1000)] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Local processes.")] = None,
    time_limit: Annotated[float, typer.Option(min=1, help="Per solve, seconds.")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print every variation.")] = False,
) -> None:
    """Re-solve the current plan with 1..N more places at each branch (O2O_RAY_ADDRESS: on Ray)."""
    from app.rounds.sweep import SweepRequest, run_sweep, summary_lines
    from app.solve_pool import default_workers

    settings = get_settings()
    request = SweepRequest(
        branches=tuple(c.strip() for c in branches.split(",") if c.strip()),
        steps=tuple(range(step, max_added + 1, step)),
        workers=workers or default_workers(), time_limit_s=time_limit,
    )  # fmt: skip
    with refusals_exit():
        result = run_sweep(make_engine(settings), settings=settings, actor=cli_actor(),
                           request=request)  # fmt: skip
    typer.echo(json.dumps(result, indent=2) if as_json else "\n".join(summary_lines(result)))


@round_cli.command("commit")
def round_commit(round_id: int) -> None:
    """Commit a solved round: assignments and ownership in one transaction."""
    from app.rounds.queries import read_round
    from app.rounds.service import commit_round

    settings = get_settings()
    engine = make_engine(settings)
    progress = PhaseProgress("round", ("commit",))
    with refusals_exit():
        commit_round(
            engine, settings=settings, actor=cli_actor(), round_id=round_id, progress=progress
        )
    progress.done()
    with session_scope(engine) as session:
        typer.echo(round_summary(read_round(session, round_id=round_id)))


@round_cli.command("replay")
def round_replay(round_id: int) -> None:
    """Solve a stored round's instance again and compare the plans (exit 1 if they differ)."""
    from app.rounds.replay import replay_round

    result = run_job(lambda s: replay_round(s, round_id=round_id))
    verdict = "identical plan" if result.identical else f"{result.differences} lead(s) differ"
    typer.echo(
        f"round {round_id}: replayed {result.leads} leads: {verdict}; "
        f"objective {result.objective:,.3f} (stored {result.stored_objective or 0:,.3f})"
    )
    if not result.identical:
        raise typer.Exit(1)


@round_cli.command("cancel")
def round_cancel(round_id: int) -> None:
    """Cancel a round that is not committed."""
    from app.rounds.service import cancel_round

    run_job(lambda s: cancel_round(s, actor=cli_actor(), round_id=round_id))
    typer.echo(f"round {round_id} cancelled")


def round_summary(r: RoundRead) -> str:
    gap = "n/a" if r.gap is None else f"{r.gap:.4%}"
    distance = r.report.get("distance", {})
    mean = distance.get("mean_km")
    mean_text = "n/a" if mean is None else f"{mean:.1f} km"
    return (
        f"round {r.id}: {r.status} ({r.solver_status}); pool {r.pool_size}, assigned {r.assigned}, "
        f"unassigned {r.unassigned} {r.report.get('unassigned_by_reason', {})}; "
        f"total cost {r.objective:,.1f} km, lower bound {r.lower_bound or 0:,.1f}, gap {gap}; "
        f"mean distance {mean_text}; solved in {r.solve_seconds or 0:.2f} s{_kept(r)}"
    )


def _kept(r: RoundRead) -> str:
    """Room kept for arrivals (issue 16.2), when the round was asked to keep any."""
    reserve = r.report.get("reserve")
    if not reserve:
        return ""
    return (
        f"; kept {reserve['kept']} places for arrivals (asked {reserve['asked']}, "
        f"{reserve['recent_arrivals']} arrived by intake in {reserve['window_days']} days)"
    )
