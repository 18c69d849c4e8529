"""`o2o allocate` (contract §5.1): one offline round, CSV in, CSV + JSON out, no database.

Exit codes: 0 when a plan was written (even with unassigned leads), 2 on bad input (the message
names file, line and column, and nothing is written), 1 on an internal failure.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from allocation.errors import InputFileError, InvalidProblemError, PlanInvalidError
from allocation.model import AllocationParams, AllocationProblem
from allocation.plan import Plan
from allocation.report import round_report
from allocation.solve import METHODS, solve
from allocation.validate import assert_valid
from allocation.value import DEFAULT_PRICE_PER_KM_FEN, OBJECTIVES, ObjectiveSpec
from allocation_files.problem_files import Resolver, load_problem, write_outputs

BASELINE_LIMIT = 100_000  # above this many leads the report skips the (sequential) baselines


def allocate(
    branches: Annotated[Path, typer.Option("--branches", help="BRANCHES.csv")],
    leads: Annotated[Path, typer.Option("--leads", help="LEADS.csv")],
    out: Annotated[Path, typer.Option("--out", help="ASSIGNMENTS.csv to write")],
    pairs: Annotated[Path | None, typer.Option("--pairs", help="PAIRS.csv (pair mode)")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="REPORT.json")] = None,
    balance_weight: Annotated[float, typer.Option("--balance-weight", min=0.0)] = 0.0,
    max_distance_km: Annotated[float | None, typer.Option("--max-distance-km", min=0.0)] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="solver time limit, seconds")
    ] = 60.0,
    method: Annotated[str, typer.Option("--method", help="|".join(METHODS))] = "optimal",
    seed: Annotated[int, typer.Option("--seed", help="seed for weighted_random")] = 0,
    objective: Annotated[
        str, typer.Option("--objective", help="|".join(OBJECTIVES) + " (issue 15.4)")
    ] = "distance",
    tier_weights: Annotated[
        str | None,
        typer.Option(
            "--tier-weights", help="tier_priority: km per tier, e.g. hnw=1000,affluent=100"
        ),
    ] = None,
    rates: Annotated[
        Path | None, typer.Option("--rates", help="RATES.csv (expected_value)")
    ] = None,
    price_per_km_fen: Annotated[
        int, typer.Option("--price-per-km-fen", min=1, help="expected_value: fen worth one km")
    ] = DEFAULT_PRICE_PER_KM_FEN,
) -> None:
    """Allocate leads to branches offline: CSV in, ASSIGNMENTS.csv and REPORT.json out."""
    if method not in METHODS:
        _fail(f"--method must be one of {', '.join(METHODS)}", code=2)
    spec = _objective(
        mode=objective, tier_weights=tier_weights, rates=rates, price_per_km_fen=price_per_km_fen
    )
    _check_outputs(out=out, report=report, inputs=(branches, leads, pairs, rates))
    try:
        run_allocation(
            branches=branches,
            leads=leads,
            out=out,
            pairs=pairs,
            report=report,
            params=AllocationParams(balance_weight=balance_weight, max_distance_km=max_distance_km),
            time_limit_s=time_limit,
            method=method,
            seed=seed,
            objective=spec,
            rates=rates,
        )
    except (InputFileError, InvalidProblemError) as exc:
        _fail(str(exc), code=2)
    except typer.Exit:
        raise
    except Exception as exc:
        _fail(f"internal failure: {type(exc).__name__}: {exc}", code=1)


def _objective(
    *, mode: str, tier_weights: str | None, rates: Path | None, price_per_km_fen: int
) -> ObjectiveSpec:
    """The objective options, checked before anything is read."""
    if mode not in OBJECTIVES:
        _fail(f"--objective must be one of {', '.join(OBJECTIVES)}", code=2)
    if tier_weights is not None and mode != "tier_priority":
        _fail("--tier-weights applies to --objective tier_priority", code=2)
    if rates is not None and mode != "expected_value":
        _fail("--rates applies to --objective expected_value", code=2)
    if mode == "expected_value" and rates is None:
        _fail("--objective expected_value needs --rates RATES.csv", code=2)
    weights = None if tier_weights is None else _weights(tier_weights)
    return ObjectiveSpec(mode=mode, tier_weights_km=weights, price_per_km_fen=price_per_km_fen)


def _weights(text: str) -> dict[str, float]:
    """'hnw=1000,affluent=100' -> {tier: km}; tiers not named weigh 0 (the core checks ranges)."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, number = part.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            _fail(f"--tier-weights: {part!r} is not tier=km", code=2)
    return out


def _check_outputs(*, out: Path, report: Path | None, inputs: tuple[Path | None, ...]) -> None:
    """Before anything is read or written: outputs must be files that overwrite no input."""
    read = {p.resolve(): p for p in inputs if p is not None}
    written: dict[Path, str] = {}
    for flag, path in (("--out", out), ("--report", report)):
        if path is None:
            continue
        if not path.parent.is_dir():
            _fail(f"{flag}: directory {path.parent} does not exist", code=2)
        if path.is_dir():
            _fail(f"{flag}: {path} is a directory, not a file", code=2)
        resolved = path.resolve()
        if resolved in read:
            _fail(f"{flag}: {path} is also an input file ({read[resolved]})", code=2)
        if resolved in written:
            _fail(f"{flag}: {path} is also {written[resolved]}", code=2)
        written[resolved] = flag


def run_allocation(
    *,
    branches: Path,
    leads: Path,
    out: Path,
    pairs: Path | None,
    report: Path | None,
    params: AllocationParams,
    time_limit_s: float,
    method: str,
    seed: int,
    objective: ObjectiveSpec | None = None,
    rates: Path | None = None,
) -> Plan:
    """The job: read -> solve -> validate -> report -> write, timing each step on stderr."""
    clock = _Clock()
    problem = load_problem(
        branches=branches,
        leads=leads,
        pairs=pairs,
        params=params,
        resolver=_resolver(),
        on_step=clock.lap,
        objective=objective,
        rates=rates,
    )
    plan = solve(problem, method=method, time_limit_s=time_limit_s, seed=seed, progress=_progress)
    clock.lap(f"solved: {plan.status}, {plan.assigned} assigned, gap {plan.gap}")
    try:
        assert_valid(problem=problem, plan=plan)
    except PlanInvalidError as exc:
        raise RuntimeError(f"the plan failed validation: {exc}") from exc
    clock.lap("validated")
    baselines = _baselines(problem=problem, method=method, seed=seed)
    if baselines:
        clock.lap(f"baselines: {', '.join(baselines)}")
    figures = round_report(problem=problem, plan=plan, baselines=baselines)
    figures["timings_seconds"] = clock.laps
    write_outputs(problem=problem, plan=plan, out=out, report_path=report, report=figures)
    clock.lap(f"wrote {out}" + (f" and {report}" if report else ""))
    return plan


def _baselines(*, problem: AllocationProblem, method: str, seed: int) -> dict[str, Plan]:
    if method != "optimal" or problem.leads.size > BASELINE_LIMIT:
        return {}
    return {name: solve(problem, method=name, seed=seed) for name in METHODS[1:]}


def _resolver() -> Resolver:
    """Location resolution for leads without coordinates (allocation.locality)."""
    from allocation.locality import resolve_location

    def resolve(region: str | None, mobile: str | None) -> tuple[float, float, str | None] | None:
        found = resolve_location(region_code=region, mobile=mobile)
        return None if found is None else (found.lat, found.lon, found.region_code)

    return resolve


class _Clock:
    def __init__(self) -> None:
        self.last = time.monotonic()
        self.laps: dict[str, float] = {}

    def lap(self, message: str) -> None:
        now = time.monotonic()
        step = message.split(" ", 1)[0].rstrip(":")
        self.laps[step] = round(now - self.last, 3)
        typer.echo(f"[{now - self.last:7.2f} s] {message}", err=True)
        self.last = now


def _progress(message: str) -> None:
    typer.echo(f"  {message}", err=True)


def _fail(message: str, *, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
