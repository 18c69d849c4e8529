"""One transaction owner: after-commit hooks run after a commit, never after a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import after_commit, session_scope
from tests.app.holdings_world import World


def test_an_after_commit_hook_runs_once_the_work_is_committed(engine: Engine) -> None:
    seen: list[int] = []

    def count_rows() -> None:
        with engine.connect() as conn:
            seen.append(int(conn.execute(text("SELECT COUNT(*) FROM branch")).scalar_one()))

    with session_scope(engine) as session:
        session.execute(text("INSERT INTO branch (code, name, lat, lon, capacity, tiers, active, "
                             "created_at, updated_at) VALUES ('X', 'x', 0, 0, 1, '', true, "
                             "'2026-11-18 00:00:00+00:00', '2026-11-18 00:00:00+00:00')"))  # fmt: skip
        after_commit(session, count_rows)
        assert seen == []
    assert seen == [1]  # ran after the commit, which its own connection could see


def test_an_after_commit_hook_never_runs_when_the_work_rolls_back(engine: Engine) -> None:
    seen: list[str] = []

    def failing_work() -> None:
        with session_scope(engine) as session:
            after_commit(session, lambda: seen.append("ran"))
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        failing_work()
    assert seen == []


def test_a_round_committed_in_one_go_is_sealed_into_the_audit_chain_at_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    world.leads("A1,22.545,114.055,mass,\n")
    world.solve(commit=True)  # run_round(commit=True): the path that never sealed
    sealed = """SELECT COUNT(*) FROM audit_seal s JOIN audit_log a ON a.id = s.audit_id
                WHERE a.action = 'round.commit'"""
    with engine.connect() as conn:
        assert conn.execute(text(sealed)).scalar_one() == 1
