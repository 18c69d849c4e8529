"""Capacity sweeps (issue 15.2): local processes and a local Ray instance agree with one
solve at a time, and `o2o round sweep` reports where more places help."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from allocation.sweep import Variation, capacity_steps
from app.cli import cli
from app.config import Settings
from app.db import session_scope
from app.solve_pool import run_variations
from app.tables import AuditRecord
from tests.allocation.factories import branch, lead, problem
from tests.app.factories import BRANCHES_CSV, load_branches
from tests.app.rounds_world import pooled, round_cli

__all__ = ["pooled", "round_cli"]  # fixtures

# Four leads by A, A holds two: each place added at A brings one lead back from far-away B.
TIGHT = problem(
    [branch("A", 30.0, 120.0, 2), branch("B", 31.0, 121.0, 10)],
    [lead(f"L{i}", 30.0 + i / 100, 120.0) for i in range(4)],
)


def _sequential(variations: list[Variation]) -> list[tuple[int, int, int, float]]:
    points = run_variations(TIGHT, variations, time_limit_s=10, workers=1)
    return [(p.branch, p.added, p.assigned, round(p.total_km, 6)) for p in points]


def test_each_place_added_where_leads_wait_saves_distance() -> None:
    variations = capacity_steps(TIGHT, branches=[0, 1], steps=[1, 2])
    points = run_variations(TIGHT, variations, time_limit_s=10, workers=1)
    base, a1, a2, b1, _b2 = points
    assert base.branch == -1
    assert base.total_km > a1.total_km > a2.total_km  # more room at A: fewer leads travel
    assert b1.total_km == pytest.approx(base.total_km)  # B has room already
    assert all(p.assigned == 4 and p.optimal for p in points)


def test_a_bad_variation_list_is_refused() -> None:
    with pytest.raises(ValueError, match="branch index 5"):
        capacity_steps(TIGHT, branches=[5], steps=[1])
    with pytest.raises(ValueError, match="at least one place"):
        capacity_steps(TIGHT, branches=[0], steps=[0])


@pytest.mark.real_clock  # worker processes under libfaketime
def test_local_processes_give_the_sequential_answers() -> None:
    variations = capacity_steps(TIGHT, branches=[0, 1], steps=[1, 2, 3])
    points = run_variations(TIGHT, variations, time_limit_s=10, workers=2)
    assert [(p.branch, p.added, p.assigned, round(p.total_km, 6)) for p in points] == _sequential(
        variations
    )


@pytest.mark.real_clock  # a Ray instance under libfaketime
def test_a_local_ray_instance_gives_the_sequential_answers() -> None:
    if os.environ.get("O2O_REQUIRE_RAY") != "1":
        pytest.importorskip("ray")  # optional extra; CI requires it (O2O_REQUIRE_RAY=1)
    import ray

    variations = capacity_steps(TIGHT, branches=[0, 1], steps=[1, 2, 3])
    try:
        points = run_variations(TIGHT, variations, time_limit_s=10, workers=1, ray_address="local")
    finally:
        ray.shutdown()
    assert [(p.branch, p.added, p.assigned, round(p.total_km, 6)) for p in points] == _sequential(
        variations
    )


def test_the_cli_sweeps_the_live_pool_and_names_a_bad_branch(
    round_cli: Settings, engine: Engine, pooled: None, tmp_path: Path
) -> None:
    # SZ-FT down to one place: it keeps the HNW lead only it serves; the mass leads fly north.
    load_branches(engine, tmp_path, BRANCHES_CSV.replace("22.541,114.055,100", "22.541,114.055,1"))
    args = ["round", "sweep", "--branches", "SZ-FT,BJ-CY", "--max-added", "2", "--workers", "1"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["base"]["assigned"] == 4
    rows = {(r["branch"], r["added"]): r for r in body["rows"]}
    assert rows[("SZ-FT", 1)]["km_saved"] > 1000  # one Shenzhen lead stays home
    assert rows[("SZ-FT", 2)]["km_saved"] > rows[("SZ-FT", 1)]["km_saved"] + 1000
    assert rows[("BJ-CY", 1)]["km_saved"] == 0
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[1].startswith("SZ-FT +2: +0 leads")
    refused = CliRunner().invoke(cli, ["round", "sweep", "--branches", "NOPE"])
    assert refused.exit_code == 2
    assert "no branch has the code NOPE" in refused.output
    with session_scope(engine) as session:
        count = select(func.count()).where(AuditRecord.action == "round.sweep")
        assert session.exec(count).one() == 2
