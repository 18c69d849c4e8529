"""A round keeps each lead's explanation as a code and its values beside the English text."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.migrations import downgrade, upgrade
from app.rounds.service import RoundParams, run_round
from app.tables import RoundAssignment
from tests.app.rounds_world import pooled

__all__ = ["pooled"]


def _rows(engine: Engine, round_id: int) -> dict[int, RoundAssignment]:
    with session_scope(engine) as session:
        found = session.exec(select(RoundAssignment).where(RoundAssignment.round_id == round_id))
        rows = {row.lead_id: row for row in found}
        session.expunge_all()
    return rows


def test_a_round_stores_the_code_and_values_beside_the_english(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    rows = _rows(engine, round_id)
    nowhere, near = rows[pooled["NOWHERE"]], rows[pooled["SZ1"]]
    assert (nowhere.explanation, nowhere.explanation_code) == ("no_location", "plan.no_location")
    assert nowhere.explanation_params is None
    assert (near.explanation, near.explanation_code, near.explanation_params) == ("", None, None)


def test_rounds_solved_before_codes_get_them_from_their_english_on_upgrade(
    engine: Engine, settings: Settings, pooled: dict[str, int]
) -> None:
    round_id = run_round(engine, settings=settings, actor="hq1", params=RoundParams(), commit=False)
    written = {
        pooled["SZ1"]: ("nearest eligible branch SZ-FT was full", None),
        pooled["SZ2"]: ("nearest eligible branch BJ-CY had room (load balance)", None),
        pooled["BJ1"]: ("same customer as lead 77", 77),
        pooled["BJ-HNW"]: ("something nobody wrote", None),
    }
    with session_scope(engine) as session:
        for lead_id, (text, follows) in written.items():
            row = session.get(RoundAssignment, (round_id, lead_id))
            assert row is not None
            row.explanation, row.follows_lead_id = text, follows
            session.add(row)
    downgrade(engine, "0013")
    upgrade(engine, "head")
    rows = _rows(engine, round_id)
    coded = {lead_id: (rows[lead_id].explanation_code, rows[lead_id].explanation_params)
             for lead_id in written}  # fmt: skip
    assert coded == {
        pooled["SZ1"]: ("plan.nearest_full", '{"branch":"SZ-FT"}'),
        pooled["SZ2"]: ("plan.nearest_had_room", '{"branch":"BJ-CY","why":"load_balance"}'),
        pooled["BJ1"]: ("round.same_customer", '{"lead":77}'),
        pooled["BJ-HNW"]: (None, None),
    }
    assert rows[pooled["NOWHERE"]].explanation_code == "plan.no_location"
    assert rows[pooled["SZ1"]].explanation == "nearest eligible branch SZ-FT was full"
