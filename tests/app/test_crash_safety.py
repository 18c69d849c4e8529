"""A process killed at any point of a round commit leaves no partial round behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.leads.importer import import_leads
from app.rounds.service import RoundParams, commit_round, run_round
from app.tables import AllocationRound, Lead, Ownership
from tests.app.crashing import KILLED, run_o2o
from tests.app.factories import write

# Children killed mid-commit wait with real sleeps: left out of the libfaketime pass.
pytestmark = pytest.mark.real_clock

CRASH_POINTS = (
    "round.commit.after_reclaim",
    "round.commit.after_assign",
    "round.commit.after_ownership",
    "round.commit.before_db_commit",
)
LEADS = "external_id,lat,lon\nA,22.55,114.06\nB,39.93,116.45\nC,22.53,114.03\n"


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_commit_killed_midway_leaves_nothing_and_can_be_redone(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], tmp_path: Path, crash_at: str
) -> None:
    with session_scope(engine) as session:
        import_leads(
            session,
            path=write(tmp_path, "l.csv", LEADS),
            actor="t",
            secret=settings.customer_key,
            channel="app",
        )
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    killed = run_o2o(settings, "round", "commit", str(round_id), crash_at=crash_at)
    assert killed.returncode == KILLED, killed.stderr
    with session_scope(engine) as session:
        allocation_round = session.get(AllocationRound, round_id)
        assert allocation_round is not None
        assert allocation_round.status == "solved"
        assert session.exec(select(Ownership)).all() == []
        assert {lead.status for lead in session.exec(select(Lead))} == {"new"}
    commit_round(
        engine, settings=settings, actor="hq1", round_id=round_id
    )  # the lock was not left behind
    with session_scope(engine) as session:
        assert len(session.exec(select(Ownership)).all()) == 3
